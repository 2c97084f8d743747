import CZlib
import Foundation

/// Just enough of the zip format for datasets, photo sets and voice models: write an archive of
/// stored (uncompressed) entries, list an archive's entries and read stored or deflated ones.
/// Blocking file I/O: call it through `BlockingIO.run`.
public enum ZipArchive {
    /// One entry of an archive's central directory.
    public struct Entry: Sendable, Hashable {
        public let name: String
        public let method: UInt16
        public let compressedSize: Int
        public let size: Int
        let crc: UInt32
        let headerOffset: Int

        public var isDirectory: Bool { name.hasSuffix("/") }
    }

    /// Writes `entries` (archive name → file) as a zip of stored entries at `url`.
    public static func write(_ entries: [(name: String, file: URL)], to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ZipError("cannot create \(url.path)")
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var central = Data()
        var offset = 0
        for entry in entries {
            let data = try Data(contentsOf: entry.file)
            guard data.count < Int(UInt32.max), offset < Int(UInt32.max) else { throw ZipError("\(entry.name) is too large for a zip") }
            let name = Data(entry.name.utf8)
            let crc = checksum(data)
            var local = Data()
            local.append(le32: 0x0403_4b50)
            local.append(le16: 20)
            local.append(le16: 0x0800)  // UTF-8 names
            local.append(le16: 0)
            local.append(le16: 0)
            local.append(le16: 0x21)  // 1980-01-01: fixed, so the same files make the same bytes
            local.append(le32: crc)
            local.append(le32: UInt32(data.count))
            local.append(le32: UInt32(data.count))
            local.append(le16: UInt16(name.count))
            local.append(le16: 0)
            local.append(name)
            try handle.write(contentsOf: local)
            try handle.write(contentsOf: data)

            central.append(le32: 0x0201_4b50)
            central.append(le16: 20)
            central.append(le16: 20)
            central.append(le16: 0x0800)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0x21)
            central.append(le32: crc)
            central.append(le32: UInt32(data.count))
            central.append(le32: UInt32(data.count))
            central.append(le16: UInt16(name.count))
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le32: 0)
            central.append(le32: UInt32(offset))
            central.append(name)
            offset += local.count + data.count
        }
        var end = Data()
        end.append(le32: 0x0605_4b50)
        end.append(le16: 0)
        end.append(le16: 0)
        end.append(le16: UInt16(entries.count))
        end.append(le16: UInt16(entries.count))
        end.append(le32: UInt32(central.count))
        end.append(le32: UInt32(offset))
        end.append(le16: 0)
        try handle.write(contentsOf: central)
        try handle.write(contentsOf: end)
    }

    /// The entries of the archive at `url`, from its central directory.
    public static func entries(of url: URL) throws -> [Entry] {
        try entries(in: Data(contentsOf: url, options: .mappedIfSafe))
    }

    static func entries(in data: Data) throws -> [Entry] {
        let bytes = [UInt8](data)
        guard bytes.count >= 22 else { throw ZipError("not a zip archive (\(bytes.count) bytes)") }
        var end: Int?
        var index = bytes.count - 22
        while index >= max(0, bytes.count - 22 - 65535) {
            if read32(bytes, index) == 0x0605_4b50 {
                end = index
                break
            }
            index -= 1
        }
        guard let end else { throw ZipError("not a zip archive (no central directory)") }
        let count = Int(read16(bytes, end + 10))
        var offset = Int(read32(bytes, end + 16))
        var entries: [Entry] = []
        for _ in 0..<count {
            guard offset + 46 <= bytes.count, read32(bytes, offset) == 0x0201_4b50 else { throw ZipError("damaged zip central directory") }
            let nameLength = Int(read16(bytes, offset + 28))
            let extraLength = Int(read16(bytes, offset + 30))
            let commentLength = Int(read16(bytes, offset + 32))
            guard offset + 46 + nameLength <= bytes.count else { throw ZipError("damaged zip central directory") }
            entries.append(Entry(
                name: String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self),
                method: read16(bytes, offset + 10), compressedSize: Int(read32(bytes, offset + 20)), size: Int(read32(bytes, offset + 24)),
                crc: read32(bytes, offset + 16), headerOffset: Int(read32(bytes, offset + 42))))
            offset += 46 + nameLength + extraLength + commentLength
        }
        return entries
    }

    /// The bytes of `entry` (stored or deflated), checked against its CRC.
    public static func contents(of entry: Entry, in url: URL) throws -> Data {
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        let start = entry.headerOffset
        guard start + 30 <= data.count, data.readLE32(at: start) == 0x0403_4b50 else { throw ZipError("damaged zip entry \(entry.name)") }
        let bodyStart = start + 30 + Int(data.readLE16(at: start + 26)) + Int(data.readLE16(at: start + 28))
        guard bodyStart + entry.compressedSize <= data.count else { throw ZipError("truncated zip entry \(entry.name)") }
        let body = data.subdata(in: bodyStart..<(bodyStart + entry.compressedSize))
        let contents: Data
        switch entry.method {
        case 0: contents = body
        case 8: contents = try inflate(body, size: entry.size, name: entry.name)
        default: throw ZipError("\(entry.name) uses zip compression method \(entry.method); only stored and deflated entries are read")
        }
        guard checksum(contents) == entry.crc else { throw ZipError("zip entry \(entry.name) is corrupt (checksum mismatch)") }
        return contents
    }

    private static func inflate(_ body: Data, size: Int, name: String) throws -> Data {
        var output = Data(count: size)
        var stream = z_stream()
        guard czlib_inflate_init_raw(&stream) == Z_OK else { throw ZipError("cannot inflate \(name)") }
        defer { inflateEnd(&stream) }
        let status: Int32 = body.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else { throw ZipError("zip entry \(name) does not inflate to its size") }
        return output
    }

    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
    }

    private static func read16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private static func read32(_ bytes: [UInt8], _ at: Int) -> UInt32 { UInt32(read16(bytes, at)) | UInt32(read16(bytes, at + 2)) << 16 }
}

/// A zip archive that cannot be read or written.
public struct ZipError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Data {
    fileprivate mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    fileprivate mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    fileprivate func readLE16(at offset: Int) -> UInt16 { UInt16(self[startIndex + offset]) | UInt16(self[startIndex + offset + 1]) << 8 }
    fileprivate func readLE32(at offset: Int) -> UInt32 { UInt32(readLE16(at: offset)) | UInt32(readLE16(at: offset + 2)) << 16 }
}
