// farm-transfer-probe: one HTTP transfer through FarmKit's client in a process of its own, so a
// test can measure the memory that transfer takes without other tests' allocations in the figure.
//
//   farm-transfer-probe download URL DESTINATION
//   farm-transfer-probe upload URL FILE          (multipart, the file as part `content`)
//
// Prints one JSON object: the HTTP status, the response body (uploads), and the resident set in
// bytes just before the transfer and at its peak (`VmRSS` / `VmHWM` from /proc/self/status).
import FarmKit
import Foundation

/// A `kB` field of /proc/self/status, in bytes.
func statusBytes(_ field: String) -> Int64 {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
    return (Int64(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("farm-transfer-probe: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 3, let url = URL(string: arguments[arguments.startIndex + 1]) else {
    fail("usage: farm-transfer-probe download|upload URL FILE")
}
let file = URL(fileURLWithPath: arguments[arguments.startIndex + 2])
let client = HTTPClient()
// Warm the engine (its thread and a pooled connection) so the figure is the transfer's alone.
_ = try? await client.send(HTTPRequest(url: url.deletingLastPathComponent().appendingPathComponent("echo")))
let before = statusBytes("VmRSS")
do {
    let response: HTTPResponse
    switch arguments.first {
    case "download":
        response = try await client.download(HTTPRequest(url: url, timeout: .seconds(120)), to: file, maxBytes: nil)
    case "upload":
        let part = MultipartPart(name: "content", file: file, filename: file.lastPathComponent, contentType: "application/octet-stream")
        response = try await client.send(HTTPRequest(method: "POST", url: url, body: .multipart([part]), timeout: .seconds(120)))
    default:
        fail("unknown transfer \(arguments.first ?? ""): use download or upload")
    }
    let report: JSON = [
        "status": .integer(Int64(response.status)),
        "body": .string(String(decoding: response.body, as: UTF8.self)),
        "resident_before": .integer(before),
        "resident_peak": .integer(statusBytes("VmHWM")),
    ]
    print(report.compactString)
} catch {
    fail("\(error)")
}
