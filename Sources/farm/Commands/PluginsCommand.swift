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
            abstract: "Check a plugin on its own: its plugin.json, the handshake and the shutdown.",
            discussion: """
                Starts the plugin, sends hello, checks that its answer agrees with plugin.json, sends \
                shutdown and checks that it exits. Exit code 0 when everything passed, 1 otherwise.

                Example: farm plugins check ./my-plugin
                """)

        @Argument(help: "The plugin folder (or its plugin.json).")
        var path: String

        func run() async throws {
            let folder = PluginLibrary.folder(for: path)
            print("checking \(folder.path)")
            let passed = await PluginCheck.run(folder: folder, hostVersion: Farm.version) { line in
                print((line.ok ? "✓ " : "✗ ") + line.text)
            }
            print(passed ? "ok: the plugin speaks protocol v1" : "problems found")
            if !passed { throw ArgumentParser.ExitCode(ExitStatus.stageFailed) }
        }
    }
}
