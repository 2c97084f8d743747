import FarmKit
import Foundation

/// Training inputs made with ffmpeg: voice-like recordings with pauses, and photo folders.
public enum TrainingMedia {
    static let ffmpeg = FFmpeg()

    /// A "voice": a harmonic tone that sounds for `on` seconds, then pauses for `off`, repeated for
    /// `seconds` (speech and a cappella singing have pauses; music does not).
    @discardableResult
    public static func voiceWAV(seconds: Double, frequency: Int = 220, on: Double = 3, off: Double = 1, to url: URL) async throws -> URL {
        let wave = "0.3*sin(2*PI*\(frequency)*t)+0.15*sin(4*PI*\(frequency)*t)"
        try await ffmpeg.run([
            "-f", "lavfi", "-i", "aevalsrc=(\(wave))*lt(mod(t\\,\(on + off))\\,\(on)):s=44100:d=\(seconds)",
            "-c:a", "pcm_s16le", url.path,
        ])
        return url
    }

    /// `count` JPEG photos of `size` in a new folder `url`, `photo_<i>.jpg`.
    @discardableResult
    public static func photoFolder(count: Int, size: String = "640x480", to url: URL) async throws -> URL {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for index in 0..<count {
            try await ffmpeg.run([
                "-f", "lavfi", "-i", "testsrc=s=\(size):d=1", "-vf", "hue=h=\(index * 25)", "-frames:v", "1",
                url.appendingPathComponent("photo_\(index).jpg").path,
            ])
        }
        return url
    }

    /// The JPEG at `url` with an EXIF APP1 segment saying `orientation` (1…8) put after its SOI marker.
    public static func settingExifOrientation(_ orientation: UInt16, of url: URL) throws {
        var jpeg = try Data(contentsOf: url)
        // "Exif\0\0", a big-endian TIFF header, IFD0 with one entry: 0x0112 SHORT 1 = orientation.
        var tiff: [UInt8] = Array("Exif\0\0".utf8) + [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01]
        tiff += [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, UInt8(orientation >> 8), UInt8(orientation & 0xFF), 0x00, 0x00]
        tiff += [0x00, 0x00, 0x00, 0x00]
        let length = tiff.count + 2
        jpeg.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + tiff, at: 2)
        try jpeg.write(to: url)
    }
}
