import Foundation

/// Just enough of the zip format for the fake models: list a zip's entries, write a stored zip.
enum Zip {
    /// The entry names of a zip archive, from its central directory; nil when `data` is not a zip
    /// ("File is not a zip file", as Python's zipfile says).
    static func entryNames(_ data: Data) -> [String]? {
        let bytes = [UInt8](data)
        guard bytes.count >= 22 else { return nil }
        // The end-of-central-directory record: the last one, within the final 64 KiB + 22 bytes.
        var end: Int?
        var index = bytes.count - 22
        while index >= max(0, bytes.count - 22 - 65535) {
            if bytes[index] == 0x50, bytes[index + 1] == 0x4b, bytes[index + 2] == 0x05, bytes[index + 3] == 0x06 {
                end = index
                break
            }
            index -= 1
        }
        guard let end else { return nil }
        let count = Int(le16(bytes, end + 10))
        var offset = Int(le32(bytes, end + 16))
        var names: [String] = []
        for _ in 0..<count {
            guard offset + 46 <= bytes.count, le32(bytes, offset) == 0x0201_4b50 else { return nil }
            let nameLength = Int(le16(bytes, offset + 28))
            let extraLength = Int(le16(bytes, offset + 30))
            let commentLength = Int(le16(bytes, offset + 32))
            guard offset + 46 + nameLength <= bytes.count else { return nil }
            names.append(String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self))
            offset += 46 + nameLength + extraLength + commentLength
        }
        return names
    }

    /// A zip with `entries` stored uncompressed, in order.
    static func make(_ entries: [(name: String, data: Data)]) -> Data {
        var archive = Data()
        var central = Data()
        for entry in entries {
            let name = Array(entry.name.utf8)
            let crc = CRC32.checksum(entry.data)
            let localOffset = UInt32(archive.count)
            var local = Data()
            local.append(le: UInt32(0x0403_4b50))
            local.append(le: UInt16(20))  // version needed
            local.append(le: UInt16(0x0800))  // UTF-8 names
            local.append(le: UInt16(0))  // stored
            local.append(le: UInt16(0))  // time
            local.append(le: UInt16(0x21))  // date: 1980-01-01
            local.append(le: crc)
            local.append(le: UInt32(entry.data.count))
            local.append(le: UInt32(entry.data.count))
            local.append(le: UInt16(name.count))
            local.append(le: UInt16(0))
            local.append(contentsOf: name)
            archive.append(local)
            archive.append(entry.data)

            central.append(le: UInt32(0x0201_4b50))
            central.append(le: UInt16(20))  // made by
            central.append(le: UInt16(20))
            central.append(le: UInt16(0x0800))
            central.append(le: UInt16(0))
            central.append(le: UInt16(0))
            central.append(le: UInt16(0x21))
            central.append(le: crc)
            central.append(le: UInt32(entry.data.count))
            central.append(le: UInt32(entry.data.count))
            central.append(le: UInt16(name.count))
            central.append(le: UInt16(0))  // extra
            central.append(le: UInt16(0))  // comment
            central.append(le: UInt16(0))  // disk
            central.append(le: UInt16(0))  // internal attributes
            central.append(le: UInt32(0))  // external attributes
            central.append(le: localOffset)
            central.append(contentsOf: name)
        }
        let centralOffset = UInt32(archive.count)
        archive.append(central)
        archive.append(le: UInt32(0x0605_4b50))
        archive.append(le: UInt16(0))
        archive.append(le: UInt16(0))
        archive.append(le: UInt16(entries.count))
        archive.append(le: UInt16(entries.count))
        archive.append(le: UInt32(central.count))
        archive.append(le: centralOffset)
        archive.append(le: UInt16(0))
        return archive
    }

    private static func le16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    private static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}

/// A ustar archive of regular files (the trainers' `weights`).
enum Tar {
    static func make(_ entries: [(name: String, data: Data)]) -> Data {
        var archive = Data()
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int, length: Int) {
                for (index, byte) in text.utf8.prefix(length).enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, length: Int) -> String {
                let digits = String(value, radix: 8)
                return String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits
            }
            put(entry.name, at: 0, length: 100)
            put(octal(0o644, length: 8), at: 100, length: 7)
            put(octal(0, length: 8), at: 108, length: 7)
            put(octal(0, length: 8), at: 116, length: 7)
            put(octal(entry.data.count, length: 12), at: 124, length: 11)
            put(octal(0, length: 12), at: 136, length: 11)
            put("        ", at: 148, length: 8)
            header[156] = UInt8(ascii: "0")
            put("ustar", at: 257, length: 6)
            put("00", at: 263, length: 2)
            let sum = header.reduce(0) { $0 + Int($1) }
            put(octal(sum, length: 7), at: 148, length: 6)
            header[154] = 0
            header[155] = UInt8(ascii: " ")
            archive.append(contentsOf: header)
            archive.append(entry.data)
            let padding = (512 - entry.data.count % 512) % 512
            archive.append(Data(count: padding))
        }
        archive.append(Data(count: 1024))
        return archive
    }
}

/// CRC-32 (IEEE), for zip entries.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }
}

extension Data {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
