import FarmKit

/// The `replicate` provider: FLUX, RVC and Sonic stages run on Replicate's HTTP API.
public struct ReplicateProvider: StageProvider {
    public let name = "replicate"
    public let summary = "AI stages on Replicate: FLUX LoRA / pro stills, RVC voice conversion, Sonic singing faces"
    /// Predictions run on Replicate's machines; the limit only bounds open requests.
    public let defaultConcurrency = 8
    public let client: ReplicateClient
    let pricing: Pricing

    public init(client: ReplicateClient, pricing: Pricing = .estimates) {
        self.client = client
        self.pricing = pricing
    }

    /// A provider configured from REPLICATE_API_TOKEN / REPLICATE_BASE_URL.
    public init() {
        self.init(client: ReplicateClient(configuration: .fromEnvironment()))
    }

    public func stages() -> [any RenderStage] {
        [
            FluxLoraStage(client: client, pricing: pricing), FluxProStage(client: client, pricing: pricing),
            RVCStage(client: client, pricing: pricing), SonicStage(client: client, pricing: pricing),
            RVCTrainingStage(client: client, pricing: pricing), FluxTrainingStage(client: client, pricing: pricing),
            CreateDatasetStage(client: client, pricing: pricing), PublishVoiceStage(),
        ]
    }
}
