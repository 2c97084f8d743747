import Foundation

/// Looks at the live processes of this machine through `/proc` (Linux), for tests that check a
/// child process is really gone.
public enum ProcessTable {
    /// The ids of running processes of program `name` (argv[0], with or without its folder) with
    /// exactly `arguments`.
    public static func pids(_ name: String, _ arguments: [String]) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let argv = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            guard let program = argv.first else { return false }
            return (program == name || program.hasSuffix("/" + name)) && Array(argv.dropFirst()) == arguments
        }
    }

    /// The ids of running processes whose command line (argv joined by spaces) contains `fragment`.
    public static func pids(commandLineContaining fragment: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard isAlive(pid), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let commandLine = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return commandLine.contains(fragment)
        }
    }

    /// Whether `pid` is a running process (a zombie waiting to be reaped does not count).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let afterName = stat.range(of: ") ", options: .backwards)
        else { return false }
        return stat[afterName.upperBound...].first != "Z"
    }

    /// Polls `find` every 20 ms until it returns a value or `timeout` passes.
    public static func waitFor<T>(timeout: Duration = .seconds(5), _ find: () -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = find() { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
        return find()
    }
}
