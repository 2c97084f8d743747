import ArgumentParser
import FFmpegProvider
import FarmKit
import FetchProvider
import OfflineProvider
import ReplicateProvider

@main
struct Farm: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "farm",
        abstract: "A render farm for AI song-cover music videos.",
        discussion: """
            farm turns a song and a trained subject (a voice model and an image model of a person) into a \
            music video of that person singing it. Render profiles pick the provider of every stage.

            Examples:
              farm render --profile offline --song demo/demo-song.mp3
              farm render --profile vivid --subject alice --song song.mp3 --out alice.mp4
              farm profiles show offline
            """,
        version: version,
        subcommands: [
            RenderCommand.self, SubjectsCommand.self, ProfilesCommand.self, ProvidersCommand.self, PluginsCommand.self,
            RunsCommand.self, CacheCommand.self, DoctorCommand.self,
        ])
}

/// The providers compiled into this binary, then the plugins found on the plugin path (their
/// manifests only: no plugin starts until one of its stages runs). The host knows none by name.
enum BuiltInProviders {
    static var registry: ProviderRegistry {
        var registry = ProviderRegistry([FetchProvider(), FFmpegProvider(), OfflineProvider(), ReplicateProvider()])
        registry.addPlugins(from: .standard(), hostVersion: Farm.version)
        return registry
    }
}
