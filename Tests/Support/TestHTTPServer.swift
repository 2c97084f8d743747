import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server for tests: `Fixtures/test_http_server.py` run by `python3`, bound to
/// 127.0.0.1 on a free port. Its routes (`/status/<code>`, `/echo`, `/bytes/<n>`, `/files/…`,
/// canned routes from a JSON file, …) are documented at the top of the script.
///
/// The server is stopped by `stop()` or when this object goes away; it also exits by itself when
/// the test process dies (it watches its stdin, a pipe whose only writer is this object).
/// Set `FARM_TEST_HTTP_VERBOSE=1` to have it log each request on stderr.
public final class TestHTTPServer: Sendable {
    public let port: Int
    public let pid: pid_t
    private let stdinWriter: Int32
    private let stopped = Mutex(false)

    /// The server script.
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/test_http_server.py")

    /// Starts a server; `files` is served under `/files/`, `routes` is a JSON file of canned
    /// responses (see the script), `tls` makes it serve HTTPS with that PEM certificate and key.
    /// Waits (off the cooperative pool) until it listens.
    public static func start(files: URL? = nil, routes: URL? = nil, tls: (certificate: URL, key: URL)? = nil) async throws -> TestHTTPServer {
        var arguments = [script.path]
        if let files { arguments += ["--files", files.path] }
        if let routes { arguments += ["--routes", routes.path] }
        if let tls { arguments += ["--tls", tls.certificate.path, tls.key.path] }
        if ProcessInfo.processInfo.environment["FARM_TEST_HTTP_VERBOSE"] != nil { arguments.append("--verbose") }
        let launch = arguments
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try TestHTTPServer(arguments: launch) })
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// The URL of `pathAndQuery` (which starts with `/`) on this server.
    public func url(_ pathAndQuery: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(pathAndQuery)")! }

    /// Stops the server (SIGTERM, SIGKILL after 2 s) and waits for it. Safe to call again.
    public func stop() {
        guard stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        close(stdinWriter)
        kill(pid, SIGTERM)
        if !Self.reap(pid, within: .seconds(2)) {
            kill(pid, SIGKILL)
            _ = Self.reap(pid, within: .seconds(10))
        }
    }

    deinit { stop() }

    private init(arguments: [String]) throws {
        let stdinPipe = try Self.pipe()
        let stdoutPipe = try Self.pipe()
        defer {
            close(stdinPipe.read)
            close(stdoutPipe.write)
        }
        pid = try Self.spawn(["python3"] + arguments, stdin: stdinPipe.read, stdout: stdoutPipe.write)
        stdinWriter = stdinPipe.write
        defer { close(stdoutPipe.read) }
        // Generous: on a loaded two-core machine python itself can take many seconds to start.
        guard let line = Self.readLine(stdoutPipe.read, within: .seconds(60)), let port = Int(line) else {
            kill(pid, SIGKILL)
            _ = Self.reap(pid, within: .seconds(10))
            close(stdinWriter)
            throw ServerError(message: "the test HTTP server (\(Self.script.path)) did not start")
        }
        self.port = port
    }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw ServerError(message: "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // only the dup2'd copies reach the child
        return (fds[0], fds[1])
    }

    /// posix_spawn with the given stdin/stdout, no other descriptors, and default signal handling
    /// (a child spawned from a test thread would otherwise inherit a mask that blocks SIGTERM).
    private static func spawn(_ argv: [String], stdin: Int32, stdout: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard result == 0 else { throw ServerError(message: "cannot run \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Reads one line from `fd`, giving up after `timeout` or at end of file.
    private static func readLine(_ fd: Int32, within timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 || errno == EINTR else { return nil }
            guard poller.revents != 0 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    /// Waits for `pid` to exit; false if it still runs after `timeout`.
    private static func reap(_ pid: pid_t, within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) { return true }
            usleep(10_000)
        } while ContinuousClock.now < deadline
        return false
    }
}
