import FarmKit
import Foundation

/// Puts local artifacts where a model can read them: uploaded once per digest through the Files
/// API and re-used (by every stage and render) while the upload has not expired.
struct InputFiles {
    let client: ReplicateClient

    /// The remote URL of `artifact`, uploading it first when needed.
    func url(for artifact: Artifact, in context: StageContext) async throws -> String {
        let key = "replicate.upload.\(artifact.digest)"
        let client = self.client
        return try await client.uploadOnce(key: key) {
            if let stored = try await context.shared.recall(key), !stored.isEmpty,
               let json = try? JSON.parse(stored, source: "upload record"), let url = json["url"]?.stringValue {
                let expires = json["expires_at"]?.doubleValue.map { Date(timeIntervalSince1970: $0) }
                if expires.map({ $0 > Date().addingTimeInterval(15 * 60) }) ?? true {
                    return url
                }
            }
            var (name, type) = Self.nameAndType(of: artifact)
            // The Files API names uploads after the file: give it a readable name, not the digest.
            var named = context.scratchFile("upload-\(artifact.digest.prefix(12))-\(name)")
            try? FileManager.default.removeItem(at: named)
            if artifact.kind == .audio, artifact.size > Self.flacAbove {
                // Over the Files API's 100 MB a long WAV song is refused: send the same sound losslessly compressed.
                (name, type) = ("audio.flac", "audio/flac")
                named = context.scratchFile("upload-\(artifact.digest.prefix(12))-\(name)")
                context.progress(nil, "compressing \(artifact.size >> 20) MiB of audio to FLAC for the upload")
                try await context.ffmpeg.run(["-i", artifact.path.path, "-map", "0:a:0", "-c:a", "flac", "-f", "flac", named.path])
            } else {
                try FileManager.default.linkItem(at: artifact.path, to: named)
            }
            defer { try? FileManager.default.removeItem(at: named) }
            context.progress(nil, "uploading \(name) (\(artifact.size / 1024) KiB)")
            let uploaded = try await client.upload(named, contentType: type)
            var record = JSONObject()
            record["url"] = .string(uploaded.url)
            record["expires_at"] = uploaded.expiresAt.map { .double($0.timeIntervalSince1970) } ?? .null
            try await context.shared.remember(key, JSON.object(record).compactString)
            context.log("uploaded \(artifact.kind.rawValue) \(artifact.digest.prefix(12)) once for every stage that needs it")
            return uploaded.url
        }
    }

    /// Audio larger than this is uploaded as FLAC (the Files API refuses files over 100 MB).
    static let flacAbove: Int64 = 64 << 20

    /// A file name and MIME type from the file's first bytes.
    static func nameAndType(of artifact: Artifact) -> (String, String) {
        let handle = try? FileHandle(forReadingFrom: artifact.path)
        let head = [UInt8]((try? handle?.read(upToCount: 12)) ?? Data())
        try? handle?.close()
        func ascii(_ range: Range<Int>) -> String { head.count >= range.upperBound ? String(decoding: head[range], as: UTF8.self) : "" }
        switch true {
        case head.starts(with: [0x89, 0x50, 0x4E, 0x47]): return ("image.png", "image/png")
        case head.starts(with: [0xFF, 0xD8]): return ("image.jpg", "image/jpeg")
        case ascii(0..<4) == "RIFF" && ascii(8..<12) == "WEBP": return ("image.webp", "image/webp")
        case ascii(0..<4) == "RIFF" && ascii(8..<12) == "WAVE": return ("audio.wav", "audio/wav")
        case ascii(0..<3) == "ID3" || head.starts(with: [0xFF, 0xFB]): return ("audio.mp3", "audio/mpeg")
        case ascii(4..<8) == "ftyp": return ("video.mp4", "video/mp4")
        default: return ("\(artifact.kind.rawValue).bin", "application/octet-stream")
        }
    }
}
