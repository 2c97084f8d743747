import FarmKit

public struct FetchProvider: StageProvider {
    public let name = "fetch"
    public let summary = ""
    public init() {}
    public func stages() -> [any RenderStage] { [] }
}
