import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

/// A suite trait that runs one `TestHTTPServer` for the whole suite and stops it afterwards, even
/// when tests fail. Tests reach it through `LoopbackServer.current`.
struct LoopbackServer: SuiteTrait, TestScoping {
    @TaskLocal static var current: TestHTTPServer?

    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await TestHTTPServer.start()
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == LoopbackServer {
    static var loopbackServer: Self { LoopbackServer() }
}

/// Helpers shared by the HTTP tests.
enum HTTPTesting {
    /// The suite's server.
    static var server: TestHTTPServer { LoopbackServer.current! }

    /// A fake API token that must never show up in any error text.
    static let secretToken = "r8_test_secret_token"

    /// `farm-transfer-probe` (Tests/TransferProbe), built next to the test bundle.
    static var transferProbe: URL? {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("farm-transfer-probe") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs the probe with `arguments` and returns the JSON report it prints.
    static func runProbe(_ probe: URL, _ arguments: [String]) async throws -> JSON {
        let output = try await ProcessRunner.run(probe.path, arguments, timeout: .seconds(180))
        #expect(output.status == 0, "farm-transfer-probe \(arguments.first ?? ""): \(output.standardError)")
        return try JSON.parse(output.standardOutput, source: "farm-transfer-probe output")
    }

    /// A 127.0.0.1 port with nothing listening (bound, then released).
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Every error text a caller could show: message, hint and description.
    static func texts(of error: any Error) -> String {
        guard let error = error as? HTTPError else { return String(describing: error) }
        return [error.message, error.hint ?? "", error.description, String(describing: error), String(reflecting: error)]
            .joined(separator: "\n")
    }

    /// Runs `body`, expecting an `HTTPError`, and checks that none of its texts leak the token.
    static func expectHTTPError(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async -> HTTPError? {
        do {
            try await body()
            Issue.record("expected an HTTPError", sourceLocation: sourceLocation)
            return nil
        } catch let error as HTTPError {
            #expect(!texts(of: error).contains(secretToken), "the token leaked: \(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected an HTTPError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
