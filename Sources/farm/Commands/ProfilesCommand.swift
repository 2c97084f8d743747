import ArgumentParser
import FarmKit

struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List and inspect render profiles.",
        discussion: """
            Profiles are JSON files found on $FARM_PROFILE_PATH, in ~/.config/farm/profiles and among \
            the built-in profiles. A profile may extend another and swap stage implementations.
            """,
        subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles farm can find.")

        func run() async throws {
            let library = ProfileLibrary.standard()
            var rows = [["name", "extends", "file", "description"]]
            for entry in library.entries() {
                rows.append([entry.name, entry.extends ?? "-", entry.file, entry.description ?? ""])
            }
            print(Console.table(rows), terminator: "")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a profile resolved: after extends, swaps, presets and defaults.",
            discussion: "Example: farm profiles show offline --set portrait.seed=7")

        @Argument(help: "A profile name or a path to a .json file.")
        var name: String

        @Option(help: "The subject to resolve {{subject.…}} with (default: the profile's, else demo).")
        var subject: String?

        @Option(name: .customLong("set"), help: ArgumentHelp("Override a stage parameter (repeatable).", valueName: "stage.param=value"))
        var settings: [String] = []

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
                let profile = try service.profiles.load(name)
                let request = RenderRequest(profile: name, subject: subject ?? profile.defaultSubject ?? Subject.demo.name, settings: settings)
                print(PlanDescription.text(try service.plan(request, allowingMissingInputs: true)), terminator: "")
            }
        }
    }
}
