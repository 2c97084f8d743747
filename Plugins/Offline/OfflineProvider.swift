import FarmKit

public struct OfflineProvider: StageProvider {
    public let name = "offline"
    public let summary = ""
    public init() {}
    public func stages() -> [any RenderStage] { [] }
}
