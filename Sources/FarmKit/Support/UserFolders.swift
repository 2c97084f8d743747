import Foundation

/// The XDG base folders farm uses (`~/.config/farm`, `~/.local/share/farm`).
public enum UserFolders {
    public static func config(environment: [String: String]) -> URL {
        base("XDG_CONFIG_HOME", default: ".config", environment).appendingPathComponent("farm", isDirectory: true)
    }

    public static func data(environment: [String: String]) -> URL {
        base("XDG_DATA_HOME", default: ".local/share", environment).appendingPathComponent("farm", isDirectory: true)
    }

    private static func base(_ variable: String, default relative: String, _ environment: [String: String]) -> URL {
        if let value = environment[variable], value.hasPrefix("/") { return URL(fileURLWithPath: value, isDirectory: true) }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(relative, isDirectory: true)
    }
}

/// Where farm's shipped data (built-in profiles, example plugins) lives next to the binary.
public enum InstallLayout {
    /// The folder `name` that ships with farm: `$FARM_SHARE/NAME`, `<prefix>/share/farm/NAME` for an
    /// installed binary in `<prefix>/bin`, or the source checkout's `NAME` for a binary built in it.
    public static func builtInFolder(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        var candidates: [URL] = []
        if let share = environment["FARM_SHARE"] { candidates.append(URL(fileURLWithPath: share, isDirectory: true)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        candidates.append(folder.deletingLastPathComponent().appendingPathComponent("share/farm", isDirectory: true))
        // A binary built by SwiftPM lives in <checkout>/.build*/<triple>/<config>/.
        for _ in 0..<5 {
            folder = folder.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                candidates.append(folder)
                break
            }
        }
        return candidates.map { $0.appendingPathComponent(name, isDirectory: true) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}
