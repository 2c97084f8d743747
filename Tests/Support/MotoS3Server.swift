import FarmKit
import Foundation

/// moto's S3 server (PyPI `moto[server]`) on 127.0.0.1, started for one test and stopped by pid:
/// a real S3-compatible HTTP endpoint for publishing voice models.
public final class MotoS3Server: Sendable {
    public let endpoint: URL
    private let process: Process

    /// Whether `python3 -m moto.server` can run here (CI installs it with scripts/setup).
    public static var isInstalled: Bool {
        get async {
            (try? await ProcessRunner.run("python3", ["-c", "import moto.server, flask, werkzeug"]).status) == 0
        }
    }

    /// Starts the server on a free port and waits until it answers.
    public init() async throws {
        let port = try Self.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        endpoint = URL(string: "http://127.0.0.1:\(port)")!
        let http = HTTPClient()
        for _ in 0..<100 {
            if let response = try? await http.send(HTTPRequest(url: endpoint.appending(path: "moto-api/"), timeout: .seconds(2))),
               response.status < 500 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        await stop()
        throw MotoError(description: "moto's S3 server did not answer on port \(port)")
    }

    /// Makes a bucket (moto takes unsigned requests).
    public func createBucket(_ name: String) async throws {
        let response = try await HTTPClient().send(HTTPRequest(method: "PUT", url: endpoint.appending(path: name)))
        guard response.status == 200 else { throw MotoError(description: "creating bucket \(name): HTTP \(response.status)") }
    }

    /// Stops the server by its pid (SIGKILL: Foundation's children cannot always be TERMed, see
    /// toolchain.md §5) and waits until it is gone.
    public func stop() async {
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        for _ in 0..<100 where ProcessTable.isAlive(pid) { try? await Task.sleep(for: .milliseconds(50)) }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoError(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw MotoError(description: "bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct MotoError: Error, CustomStringConvertible {
        let description: String
    }
}
