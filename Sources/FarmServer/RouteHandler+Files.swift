import FarmKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

extension RouteHandler {
    /// Song file extensions an upload may have.
    static let songExtensions: Set<String> = ["mp3", "wav", "m4a", "aac", "flac", "ogg", "opus", "webm", "mp4", "mov", "mkv"]

    /// Streams the body to `uploads/<random id>.<ext>` (a temporary name until complete), refusing
    /// more than the limit. The file is only ever read by renders, never served.
    func upload() async throws -> Response {
        let name = request.uri.queryParameters["name"].map(String.init) ?? ""
        let ext = (name as NSString).pathExtension.lowercased()
        guard Self.songExtensions.contains(ext) else {
            throw StudioError(.unsupportedMediaType, "\"\(name)\" is not a song file farm reads",
                              hint: "upload an audio or video file (\(Self.songExtensions.sorted().joined(separator: ", "))) with ?name=FILE")
        }
        let limit = responder.configuration.uploadLimit
        let tooLarge = StudioError(.contentTooLarge, "the upload is larger than the limit of \(limit >> 20) MiB",
                                   hint: "trim the song, or start farm serve with a larger --upload-limit")
        if let length = request.headers[.contentLength].flatMap(Int64.init), length > limit { throw tooLarge }
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let final = responder.uploads.url.appendingPathComponent("\(id).\(ext)")
        let partial = responder.uploads.url.appendingPathComponent(".\(id).part")
        let counter = ByteCounter(limit: limit)
        do {
            try await responder.files.writeFile(contents: request.body.map { try counter.add($0) }, path: partial.path, context: context)
            try await blocking { try FileManager.default.moveItem(at: partial, to: final) }
        } catch {
            _ = try? await blocking { try FileManager.default.removeItem(at: partial) }
            if error is ByteCounter.Exceeded { throw tooLarge }
            throw error
        }
        guard counter.count > 0 else {
            _ = try? await blocking { try FileManager.default.removeItem(at: final) }
            throw StudioError(.badRequest, "the upload is empty", hint: "send the song's bytes as the request body")
        }
        return Reply.json(["upload": .string(id), "name": .string(name), "size": .integer(counter.count)], status: .created)
    }

    /// The uploaded file `id`, checked to be one of ours, and claimed: kept for the retention from now.
    func uploadedFile(_ id: String) async throws -> URL {
        guard id.count == 32, id.allSatisfy(\.isHexDigit) else {
            throw StudioError(.badRequest, "\"\(id)\" is not an upload id", hint: "use the id POST /api/uploads answered")
        }
        let folder = responder.uploads
        let found = try await blocking { folder.claim(id, extensions: Self.songExtensions) }
        guard let found else { throw StudioError(.badRequest, "no upload \(id) (uploads not used by a waiting render are removed after \(responder.uploads.retentionText))", hint: "upload the song again with POST /api/uploads") }
        return found
    }

    /// A store file with HTTP range support (`Range: bytes=a-b`, `a-`, `-n`), so players can seek.
    func serve(_ artifact: Artifact) async throws -> Response {
        let size = Int(artifact.size)
        let path = artifact.path.path
        let type = try await blocking { Self.contentType(of: path, kind: artifact.kind) }
        var headers: HTTPFields = [.contentType: type, .acceptRanges: "bytes", .eTag: "\"\(artifact.digest)\"",
                                   .cacheControl: "private, max-age=31536000, immutable"]
        var range = 0..<size
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            guard let requested = Self.byteRange(header, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                var error = StudioError(.rangeNotSatisfiable, "range \(header) is outside the file (\(size) bytes)", hint: nil)
                error.headers = headers
                throw error
            }
            range = requested
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
        }
        headers[.contentLength] = "\(range.count)"
        guard !range.isEmpty else { return Response(status: status, headers: headers) }
        let body = try await responder.files.loadFile(path: path, range: range.lowerBound...(range.upperBound - 1), context: context)
        return Response(status: status, headers: headers, body: body)
    }

    /// The one range of a `Range` header within `size` bytes; nil when unsatisfiable. Several
    /// ranges are answered with the first.
    static func byteRange(_ header: String, size: Int) -> Range<Int>? {
        guard header.hasPrefix("bytes="), let first = header.dropFirst(6).split(separator: ",").first else { return nil }
        let parts = first.trimmingCharacters(in: .whitespaces).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0, size > 0 else { return nil }
            return max(0, size - suffix)..<size
        }
        guard let start = Int(parts[0]), start < size else { return nil }
        let end = parts[1].isEmpty ? size - 1 : Int(parts[1]).map { min($0, size - 1) }
        guard let end, end >= start else { return nil }
        return start..<(end + 1)
    }

    /// The MIME type from the file's first bytes (store files have no extension).
    static func contentType(of path: String, kind: MediaKind) -> String {
        let head: [UInt8] = FileHandle(forReadingAtPath: path).map { handle -> [UInt8] in
            defer { try? handle.close() }
            return [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        } ?? []
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + bytes.count && Array(head[offset..<(offset + bytes.count)]) == bytes
        }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("RIFF".utf8)), starts(Array("WAVE".utf8), at: 8) { return "audio/wav" }
        if starts(Array("OggS".utf8)) { return "audio/ogg" }
        if starts(Array("fLaC".utf8)) { return "audio/flac" }
        if starts(Array("ID3".utf8)) || (head.count > 1 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) { return "audio/mpeg" }
        if starts(Array("ftyp".utf8), at: 4) { return kind == .audio ? "audio/mp4" : "video/mp4" }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return kind == .audio ? "audio/webm" : "video/webm" }
        return "application/octet-stream"
    }
}

/// Counts an upload's bytes and stops it past the limit.
final class ByteCounter: Sendable {
    struct Exceeded: Error {}
    let limit: Int64
    private let total = Mutex<Int64>(0)

    init(limit: Int64) { self.limit = limit }

    var count: Int64 { total.withLock { $0 } }

    func add(_ buffer: ByteBuffer) throws -> ByteBuffer {
        let sum = total.withLock { total in
            total += Int64(buffer.readableBytes)
            return total
        }
        if sum > limit { throw Exceeded() }
        return buffer
    }
}
