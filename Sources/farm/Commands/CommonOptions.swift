import ArgumentParser
import FarmKit
import Foundation

/// Options every command that touches the store shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("home"), help: ArgumentHelp("The store folder (default: $FARM_HOME, else ~/.local/share/farm).", valueName: "path"))
    var home: String?

    var homeURL: URL {
        home.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Store.defaultHome()
    }
}

/// Runs `body`, printing farm errors as `error:` / `hint:` lines with their exit code.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as any FarmError {
        Console.printError(error.message, hint: error.hint)
        throw ArgumentParser.ExitCode(error.exitCode)
    } catch let error as ArgumentParser.ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        Console.printError("\(error)", hint: nil)
        throw ArgumentParser.ExitCode(ExitStatus.stageFailed)
    }
}
