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
            RenderCommand.self, TrainCommand.self, SubjectsCommand.self, ProfilesCommand.self, ProvidersCommand.self, PluginsCommand.self,
            RunsCommand.self, CacheCommand.self, DoctorCommand.self, ServeCommand.self,
        ])

    /// The standard entry point, except that command-line mistakes read `error: …` / `hint: …` and
    /// exit with 2, like every other bad input (swift-argument-parser's own form exits with 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            Console.writeError(usageMistake(fullMessage(for: error)))
            exit(withError: ExitCode(ExitStatus.badInput))
        }
    }

    /// Rewrites the parser's `Error: …`, `Usage: …`, `See '…' for more information.` message.
    static func usageMistake(_ message: String) -> String {
        var lines: [String] = []
        var hint: String?
        for line in message.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Error: ") {
                lines.append("error: " + trimmed.dropFirst("Error: ".count))
            } else if trimmed.hasPrefix("See '"), let end = trimmed.dropFirst(5).firstIndex(of: "'") {
                hint = "see " + trimmed[trimmed.index(trimmed.startIndex, offsetBy: 5)..<end] + " for the options and examples"
            } else {
                lines.append(line)
            }
        }
        if let hint { lines.append("hint: " + hint) }
        return lines.joined(separator: "\n") + "\n"
    }
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
