import FarmKit
import FetchProvider
import FFmpegProvider
import Foundation
import OfflineProvider
import ReplicateProvider
import Testing

/// The caption profiles resolve as farm resolves them: the built-in providers plus the example
/// plugins, with the captions plugin's stage after the mux.
@Suite struct CaptionProfileTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: [("vivid-captions", "replicate.flux-lora@1"), ("offline-captions", "offline.image@1")])
    func captionProfilesBurnTheTitleIntoTheMuxedVideo(profile: String, portrait: String) throws {
        var registry = ProviderRegistry([FetchProvider(), FFmpegProvider(), OfflineProvider(), ReplicateProvider()])
        registry.addPlugins(from: PluginLibrary(searchPath: [Self.repository.appendingPathComponent("Plugins/examples")]), hostVersion: "test")
        let library = ProfileLibrary(searchPath: [Self.repository.appendingPathComponent("profiles")])
        let subject = Subject(name: "alice", trigger: "ALICETOK", imageModel: "farm-test/alice-flux", voiceModel: "https://example.com/alice.zip")
        let plan = try ProfileResolver(registry: registry).resolve(
            try library.load(profile), subject: subject, overrides: .init(inputs: ["song": "song.wav"]))
        #expect(plan.output.description == "captioned.video")
        let captioned = try #require(plan.nodes.first { $0.name == "captioned" })
        #expect(captioned.implementation.id.description == "captions.burn@1")
        #expect(captioned.inputs["video"]?.description == "video.video")
        #expect(captioned.parameters["position"] == "bottom")
        #expect(captioned.dependencies == ["video", "song"], "its text is {{song.title}}")
        #expect(plan.nodes.first { $0.name == "portrait" }?.implementation.id.description == portrait)
        #expect(plan.nodes.first { $0.name == "video" }?.implementation.id.name == "ffmpeg.mux")
        #expect(plan.nodes.first { $0.name == "song" }?.parameters["source"] == "song.wav")
        #expect(plan.nodes.last?.name == "captioned", "the plugin's stage runs last")
    }
}
