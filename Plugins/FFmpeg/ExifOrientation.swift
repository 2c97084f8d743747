import Foundation

/// The EXIF orientation of a JPEG (tag 0x0112 in IFD0 of the APP1 `Exif` segment) and the ffmpeg
/// filters that make the picture upright.
enum ExifOrientation {
    /// 1…8, or 1 when the file is not a JPEG or carries no orientation.
    static func read(_ url: URL) -> Int {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return 1 }
        defer { try? handle.close() }
        // The EXIF segment sits at the start of the file; 256 KiB covers it.
        guard let data = try? handle.read(upToCount: 256 << 10) else { return 1 }
        return orientation(in: [UInt8](data))
    }

    static func orientation(in bytes: [UInt8]) -> Int {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return 1 }
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            if marker == 0xDA || marker == 0xD9 { break }
            let body = offset + 4
            if marker == 0xE1, body + 14 <= bytes.count, Array(bytes[body..<(body + 6)]) == Array("Exif\0\0".utf8) {
                return tiffOrientation(bytes, start: body + 6, end: min(bytes.count, offset + 2 + length))
            }
            offset += 2 + length
        }
        return 1
    }

    private static func tiffOrientation(_ bytes: [UInt8], start: Int, end: Int) -> Int {
        let little = bytes[start] == 0x49
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= end else { return nil }
            return little ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : Int(bytes[at]) << 8 | Int(bytes[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(start + 4), let count = u16(start + ifd) else { return 1 }
        for index in 0..<count {
            let entry = start + ifd + 2 + index * 12
            guard let tag = u16(entry) else { break }
            if tag == 0x0112, let value = u16(entry + 8), (1...8).contains(value) { return value }
        }
        return 1
    }

    /// ffmpeg video filters that turn a picture stored with `orientation` upright.
    static func filters(_ orientation: Int) -> [String] {
        switch orientation {
        case 2: ["hflip"]
        case 3: ["hflip", "vflip"]
        case 4: ["vflip"]
        case 5: ["transpose=0"]
        case 6: ["transpose=1"]
        case 7: ["transpose=3"]
        case 8: ["transpose=2"]
        default: []
        }
    }
}
