import FakeReplicate
import FarmKit
import Foundation

/// `fake-replicate`: the fake Replicate API as a process, for clients that are not Swift tests
/// (the official Python client, benchmarks, a manual `farm render` against it).
///
///     fake-replicate [--port N] [--host 127.0.0.1] [--token T]… [--latency-scale F] [--config FILE]
///
/// Prints `listening on http://127.0.0.1:PORT` on standard output once ready; logs go to standard
/// error; SIGTERM or SIGINT stops it cleanly.

let usage = """
    usage: fake-replicate [--port N] [--host 127.0.0.1] [--token T]... [--latency-scale F] [--config FILE]

      --port N            port to listen on; 0 (the default) picks a free one
      --host H            loopback address to listen on (127.0.0.1, localhost or ::1)
      --token T           an accepted API token; repeatable (default: r8_test_token)
      --latency-scale F   multiplies every model latency (e.g. 0.01 for tests)
      --config FILE       JSON configuration: models' latencies, faults, limits (see Tests/FakeReplicate/README.md)
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fake-replicate: \(message)\n\(usage)\n".utf8))
    exit(2)
}

var configuration = FakeReplicate.Configuration()
configuration.logLevel = "info"
var tokens: [String] = []
var overrides: [(inout FakeReplicate.Configuration) -> Void] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
        return value
    }
    switch argument {
    case "--port":
        let text = value()
        guard let port = Int(text), (0...65535).contains(port) else { fail("--port: not a port number: \(text)") }
        overrides.append { $0.port = port }
    case "--host":
        let host = value()
        overrides.append { $0.host = host }
    case "--token":
        tokens.append(value())
    case "--latency-scale":
        let text = value()
        guard let scale = Double(text), scale >= 0 else { fail("--latency-scale: not a non-negative number: \(text)") }
        overrides.append { $0.latencyScale = scale }
    case "--config":
        let path = value()
        do {
            configuration = try FakeReplicate.Configuration.from(json: try JSON.parse(contentsOf: URL(fileURLWithPath: path)), base: configuration)
        } catch {
            fail("--config \(path): \(error)")
        }
    case "--help", "-h":
        print(usage)
        exit(0)
    default:
        fail("unknown argument \(argument)")
    }
}
for override in overrides { override(&configuration) }
if !tokens.isEmpty { configuration.tokens = Set(tokens) }
let host = configuration.host
guard ["127.0.0.1", "localhost", "::1"].contains(host.lowercased()) || host.hasPrefix("127.") else {
    fail("--host: loopback only (127.0.0.1, localhost or ::1), not \(host)")
}

// Signals arrive as a stream; the default handlers are turned off first.
let signals = AsyncStream<Int32> { continuation in
    let sources = [SIGTERM, SIGINT].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        return source
    }
    nonisolated(unsafe) let kept = sources
    continuation.onTermination = { _ in kept.forEach { $0.cancel() } }
}

let server = FakeReplicateServer(configuration: configuration)
do {
    let base = try await server.start()
    let origin = base.absoluteString.replacingOccurrences(of: "/v1", with: "")
    FileHandle.standardOutput.write(Data("listening on \(origin)\n".utf8))
    FileHandle.standardError.write(Data("fake-replicate: API at \(base.absoluteString), storage \(server.storageDirectory.path)\n".utf8))
} catch {
    fail("cannot start: \(error)")
}
for await number in signals {
    FileHandle.standardError.write(Data("fake-replicate: signal \(number), stopping\n".utf8))
    break
}
await server.stop()
exit(0)
