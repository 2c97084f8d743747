import Foundation

/// SHA-256 (FIPS 180-4), fed incrementally: `update` any number of times, then `finalize`.
public struct SHA256: Sendable {
    private typealias Words = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    private var state: Words = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// Bytes of an unfinished block (64 bytes of storage).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var length: UInt64 = 0

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        length &+= UInt64(bytes.count)
        var input = bytes
        if pendingCount > 0 {
            let taken = min(64 - pendingCount, input.count)
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.advanced(by: pendingCount).copyMemory(from: input.baseAddress!, byteCount: taken)
            }
            pendingCount += taken
            input = UnsafeRawBufferPointer(rebasing: input[taken...])
            guard pendingCount == 64 else { return }
            withUnsafeBytes(of: &pending) { Self.compress(&state, blocks: $0) }
            pendingCount = 0
        }
        let whole = input.count & ~63
        if whole > 0 { Self.compress(&state, blocks: UnsafeRawBufferPointer(rebasing: input[..<whole])) }
        if whole < input.count {
            pendingCount = input.count - whole
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: input.baseAddress! + whole, byteCount: pendingCount)
            }
        }
    }

    /// Adds bytes to the message; contiguous collections (`[UInt8]`, `Data`, `String.UTF8View`) are not copied.
    public mutating func update(_ data: some Sequence<UInt8>) {
        let done: Void? = data.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        guard done == nil else { return }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(4096)
        for byte in data {
            chunk.append(byte)
            if chunk.count == 4096 {
                chunk.withUnsafeBytes { update($0) }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        chunk.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything added so far (`self` is left as it was).
    public consuming func finalize() -> [UInt8] {
        let bitLength = length &* 8
        // 0x80, zeros up to 56 mod 64, then the message length in bits, big-endian.
        var tail = [UInt8](repeating: 0, count: (pendingCount < 56 ? 56 : 120) - pendingCount + 8)
        tail[0] = 0x80
        withUnsafeBytes(of: bitLength.bigEndian) { tail.replaceSubrange((tail.count - 8)..., with: $0) }
        update(tail)
        return withUnsafeBytes(of: state) { words in
            (0..<8).flatMap { index in
                withUnsafeBytes(of: words.load(fromByteOffset: index * 4, as: UInt32.self).bigEndian, Array.init)
            }
        }
    }

    /// Lowercase hex of the SHA-256 digest of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hexString(hasher.finalize())
    }

    /// Lowercase hex of the SHA-256 digest of the UTF-8 bytes of `string`.
    public static func hex(of string: String) -> String {
        hex(string.utf8)
    }

    /// Lowercase hex of the SHA-256 digest of a file, read in 1 MiB chunks; memory does not grow
    /// with the file's size. Blocking I/O: callers run it off the cooperative pool.
    public static func hexOfFile(at url: URL) throws(FileReadError) -> String {
        var hasher = SHA256()
        try forEachChunk(ofFileAt: url) { hasher.update($0) }
        return hexString(hasher.finalize())
    }

    /// Lowercase hex digits of `bytes`.
    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = digits[Int(byte >> 4)]
                out[2 * index + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// Runs the compression function over whole 64-byte blocks.
    private static func compress(_ state: inout Words, blocks: UnsafeRawBufferPointer) {
        roundConstants.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                var (h0, h1, h2, h3, h4, h5, h6, h7) = state
                var offset = 0
                while offset < blocks.count {
                    for t in 0..<16 {
                        w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                    }
                    for t in 16..<64 {
                        let s0 = rotate(w[t - 15], 7) ^ rotate(w[t - 15], 18) ^ (w[t - 15] &>> 3)
                        let s1 = rotate(w[t - 2], 17) ^ rotate(w[t - 2], 19) ^ (w[t - 2] &>> 10)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var (a, b, c, d, e, f, g, h) = (h0, h1, h2, h3, h4, h5, h6, h7)
                    for t in 0..<64 {
                        let sum1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
                        let choice = (e & f) ^ (~e & g)
                        let t1 = h &+ sum1 &+ choice &+ k[t] &+ w[t]
                        let sum0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ sum0 &+ majority)
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d
                    h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                    offset += 64
                }
                state = (h0, h1, h2, h3, h4, h5, h6, h7)
            }
        }
    }

    @inline(__always)
    private static func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x &>> n) | (x &<< (32 &- n))
    }
}

/// A file that could not be read; names the path and the reason.
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path.
    public let path: String
    /// The system's reason, e.g. "No such file or directory", "Is a directory", "Permission denied".
    public let reason: String

    public var description: String { "cannot read \(path): \(reason)" }
}

/// Calls `body` with successive chunks of the file at `url`, read into one reused buffer of
/// `chunkSize` bytes. Blocking I/O.
func forEachChunk(
    ofFileAt url: URL, chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) -> Void
) throws(FileReadError) {
    func failure() -> FileReadError { FileReadError(path: url.path, reason: String(cString: strerror(errno))) }
    let opened = url.withUnsafeFileSystemRepresentation { path in path.map { open($0, O_RDONLY | O_CLOEXEC) } }
    guard let descriptor = opened else { throw FileReadError(path: url.path, reason: "not a file path") }
    guard descriptor >= 0 else { throw failure() }
    defer { close(descriptor) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let count = read(descriptor, buffer.baseAddress, chunkSize)
        if count > 0 {
            body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        } else if count == 0 {
            return
        } else if errno != EINTR {
            throw failure()
        }
    }
}
