import ArgumentParser
import FarmKit
import Foundation

struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "See and trim the store's cache.", subcommands: [Usage.self, Collect.self])

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "du", abstract: "Show how much space the store uses.")

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let usage = try await Store(home: store.homeURL).usage()
                print(Console.table([
                    ["store", store.homeURL.path],
                    ["artifacts", "\(usage.artifacts) files, \(CacheCommand.bytes(usage.artifactBytes))"],
                    ["cache entries", "\(usage.cacheEntries)"],
                    ["fetched songs", "\(usage.fetchedSources)"],
                    ["runs", "\(usage.runs)"],
                    ["temporary", CacheCommand.bytes(usage.tmpBytes)],
                ]), terminator: "")
            }
        }
    }

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove files no cache entry or run needs, and stale temporary files.",
            discussion: """
                Without options only unreferenced files go; cached stage results stay. Examples:
                  farm cache gc                       # unreferenced artifacts and stale temp files
                  farm cache gc --unused-for 30       # also forget results unused for 30 days
                  farm cache gc --all                 # forget every cached result and fetched song
                """)

        @Option(help: ArgumentHelp("Also forget cached results and fetched songs not used for this many days.", valueName: "days"))
        var unusedFor: Double?

        @Flag(help: "Forget every cached result and fetched song (the next render fetches and runs everything again).")
        var all = false

        @OptionGroup var store: StoreOptions

        func validate() throws {
            if all && unusedFor != nil { throw ValidationError("give --all or --unused-for, not both") }
            if let unusedFor, unusedFor < 0 { throw ValidationError("--unused-for takes a number of days, 0 or more") }
        }

        func run() async throws {
            try await reportingErrors {
                let age: TimeInterval? = all ? 0 : unusedFor.map { $0 * 86_400 }
                let report = try await Store(home: store.homeURL).collectGarbage(unusedFor: age)
                print("removed \(report.cacheEntries) cache entries, \(report.fetchedSources) fetched songs, \(report.artifacts) artifacts (\(CacheCommand.bytes(report.artifactBytes))), "
                      + "\(report.tmpEntries) temporary files (\(CacheCommand.bytes(report.tmpBytes)))")
            }
        }
    }

    static func bytes(_ count: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: count, countStyle: .file)
    }
}
