import ArgumentParser
import FarmKit
import Foundation

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List and check out-of-process stage providers (plugins).",
        discussion: """
            A plugin is a folder with a plugin.json, in any language, spoken to with JSON lines (see \
            docs/plugins.md). farm finds plugins on $FARM_PLUGIN_PATH (colon separated), in \
            ~/.config/farm/plugins and among the examples that ship with farm.
            """,
        subcommands: [List.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the plugins farm can find, and any problems with them.")

        func run() async throws {
            let library = PluginLibrary.standard()
            let registry = BuiltInProviders.registry
            var rows = [["name", "version", "stages", "status", "folder"]]
            for entry in library.entries() {
                var version = "-", stages = "-", status = "ok"
                switch entry.manifest {
                case .success(let manifest):
                    version = manifest.version
                    stages = manifest.stages.map(\.name).joined(separator: ", ")
                    if let winner = entry.shadowedBy {
                        status = "hidden by \(winner.path)"
                    } else if !(registry.provider(named: manifest.name) is ExternalProvider) {
                        status = "hidden: a built-in provider has this name"
                    }
                case .failure(let error):
                    status = "broken: " + error.message
                }
                rows.append([entry.name, version, stages, status, entry.folder.path])
            }
            guard rows.count > 1 else {
                print("no plugins found; searched: " + library.searchPath.map(\.path).joined(separator: ", "))
                return
            }
            print(Console.table(rows), terminator: "")
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a plugin on its own: its plugin.json, the handshake, a run, the shutdown.",
            discussion: """
                Starts the plugin, sends hello, checks that its answer agrees with plugin.json, sends \
                shutdown and checks that it exits. With --run, also runs one stage on the files you \
                give, shows its progress and log, checks its result and copies the outputs to --out. \
                Exit code 0 when everything passed, 1 otherwise.

                Examples:
                  farm plugins check ./my-plugin
                  farm plugins check Plugins/examples/captions --run burn --input video=clip.mp4 --set text=Hello
                """)

        @Argument(help: "The plugin folder (or its plugin.json).")
        var path: String

        @Option(name: .customLong("run"), help: ArgumentHelp("Also run this stage (its name without the plugin's prefix).", valueName: "stage"))
        var stage: String?

        @Option(name: .customLong("input"), help: ArgumentHelp("An input file for --run (repeatable).", valueName: "port=file"))
        var inputs: [String] = []

        @Option(name: .customLong("set"), help: ArgumentHelp("A parameter for --run (repeatable); the value is JSON or text.", valueName: "param=value"))
        var settings: [String] = []

        @Option(name: .customLong("out"), help: ArgumentHelp("Where --run copies the outputs (default: ./check-output).", valueName: "folder"))
        var output = "check-output"

        func validate() throws {
            if stage == nil && (!inputs.isEmpty || !settings.isEmpty) { throw ValidationError("--input and --set need --run STAGE") }
            for input in inputs where !input.contains("=") { throw ValidationError("--input takes PORT=FILE, got \(input)") }
        }

        func run() async throws {
            let folder = PluginLibrary.folder(for: path)
            var trial: PluginCheck.Trial?
            if let stage {
                var files: [String: URL] = [:]
                for input in inputs {
                    let parts = input.split(separator: "=", maxSplits: 1).map(String.init)
                    files[parts[0]] = URL(fileURLWithPath: parts.count > 1 ? parts[1] : "")
                }
                trial = PluginCheck.Trial(stage: stage, inputs: files, settings: settings, outputFolder: URL(fileURLWithPath: output))
            }
            print("checking \(folder.path)")
            let passed = await PluginCheck.run(folder: folder, hostVersion: Farm.version, trial: trial) { line in
                print((line.ok.map { $0 ? "✓ " : "✗ " } ?? "  ") + line.text)
            }
            print(passed ? "ok: the plugin speaks protocol v1" : "problems found")
            if !passed { throw ArgumentParser.ExitCode(ExitStatus.stageFailed) }
        }
    }
}
