#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A 16-bit PCM WAV file: where its samples are, how to measure their loudness and how to copy a
/// span of them into a WAV of its own. Reads in blocks, so a long song never sits in memory.
struct PCMWave: Sendable {
    let url: URL
    let sampleRate: Int
    let channels: Int
    /// Byte offset of the first sample in the file.
    let dataOffset: Int64
    /// Sample frames (one sample per channel) in the file.
    let frames: Int

    var bytesPerFrame: Int { channels * 2 }
    var seconds: Double { Double(frames) / Double(sampleRate) }

    /// Reads the header of `url`; throws a `StageFailure` unless it is 16-bit PCM WAV.
    init(_ url: URL) throws {
        self.url = url
        let file = try FileReader(url)
        defer { file.closeFile() }
        let riff = try file.read(12)
        guard riff.count == 12, riff.ascii(0, 4) == "RIFF", riff.ascii(8, 4) == "WAVE" else {
            throw StageFailure("\(url.lastPathComponent) is not a WAV file")
        }
        var offset: Int64 = 12
        var format: (channels: Int, rate: Int, bits: Int)?
        while true {
            let header = try file.read(8, at: offset)
            guard header.count == 8 else { throw StageFailure("\(url.lastPathComponent) has no audio data") }
            let size = Int64(header.uint32(4))
            if header.ascii(0, 4) == "fmt " {
                let body = try file.read(16, at: offset + 8)
                guard body.count == 16, [1, 0xFFFE].contains(body.uint16(0)) else {
                    throw StageFailure("\(url.lastPathComponent) is not PCM audio")
                }
                format = (Int(body.uint16(2)), Int(body.uint32(4)), Int(body.uint16(14)))
            } else if header.ascii(0, 4) == "data" {
                guard let format, format.bits == 16, format.channels > 0, format.rate > 0 else {
                    throw StageFailure("\(url.lastPathComponent) is not 16-bit PCM audio")
                }
                channels = format.channels
                sampleRate = format.rate
                dataOffset = offset + 8
                let available = max(0, file.size - dataOffset)
                frames = Int(min(size, available)) / (format.channels * 2)
                return
            }
            offset += 8 + size + size % 2
        }
    }

    /// The mean power (0…1, of the channels' average) of each block of `hop` sample frames.
    func power(hop: Int) throws -> [Float] {
        let file = try FileReader(url)
        defer { file.closeFile() }
        var result: [Float] = []
        result.reserveCapacity(frames / hop + 1)
        var sum = 0.0
        var count = 0
        var position = dataOffset
        var remaining = frames
        let blockFrames = 1 << 16
        while remaining > 0 {
            let take = min(blockFrames, remaining)
            let block = try file.read(take * bytesPerFrame, at: position)
            guard block.count == take * bytesPerFrame else { throw StageFailure("\(url.lastPathComponent) ended early") }
            block.withUnsafeBytes { raw in
                let samples = raw.bindMemory(to: Int16.self)
                let scale = 1 / (Double(channels) * 32768)
                for frame in 0..<take {
                    var mixed = 0
                    for channel in 0..<channels { mixed += Int(Int16(littleEndian: samples[frame * channels + channel])) }
                    let value = Double(mixed) * scale
                    sum += value * value
                    count += 1
                    if count == hop {
                        result.append(Float(sum / Double(hop)))
                        sum = 0
                        count = 0
                    }
                }
            }
            position += Int64(block.count)
            remaining -= take
        }
        if count > 0 { result.append(Float(sum / Double(count))) }
        return result
    }

    /// Writes sample frames `range` as a WAV of their own at `destination`.
    func copyFrames(_ range: Range<Int>, to destination: URL) throws {
        let file = try FileReader(url)
        defer { file.closeFile() }
        let bytes = range.count * bytesPerFrame
        var header = Data()
        func append32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { header.append(contentsOf: $0) } }
        func append16(_ value: Int) { withUnsafeBytes(of: UInt16(value).littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8))
        append32(36 + bytes)
        header.append(contentsOf: Array("WAVEfmt ".utf8))
        append32(16)
        append16(1)
        append16(channels)
        append32(sampleRate)
        append32(sampleRate * bytesPerFrame)
        append16(bytesPerFrame)
        append16(16)
        header.append(contentsOf: Array("data".utf8))
        append32(bytes)
        guard FileManager.default.createFile(atPath: destination.path, contents: header),
              let output = FileHandle(forWritingAtPath: destination.path) else {
            throw StageFailure("cannot write \(destination.path)")
        }
        defer { try? output.close() }
        try output.seekToEnd()
        var position = dataOffset + Int64(range.lowerBound * bytesPerFrame)
        var remaining = bytes
        while remaining > 0 {
            let block = try file.read(min(remaining, 1 << 20), at: position)
            guard !block.isEmpty else { throw StageFailure("\(url.lastPathComponent) ended early") }
            try output.write(contentsOf: block)
            position += Int64(block.count)
            remaining -= block.count
        }
    }
}

/// Positioned reads from one file descriptor.
private final class FileReader {
    private let descriptor: Int32
    let size: Int64

    init(_ url: URL) throws {
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StageFailure("cannot read \(url.path): \(String(cString: strerror(errno)))") }
        var info = stat()
        fstat(descriptor, &info)
        size = Int64(info.st_size)
    }

    func read(_ count: Int, at offset: Int64 = 0) throws -> Data {
        var data = Data(count: count)
        let got = data.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(offset)) }
        guard got >= 0 else { throw StageFailure("cannot read audio: \(String(cString: strerror(errno)))") }
        data.count = got
        return data
    }

    func closeFile() { close(descriptor) }
}

private extension Data {
    func ascii(_ offset: Int, _ count: Int) -> String {
        String(decoding: self[startIndex + offset..<startIndex + offset + count], as: UTF8.self)
    }

    func uint16(_ offset: Int) -> UInt16 {
        UInt16(self[startIndex + offset]) | UInt16(self[startIndex + offset + 1]) << 8
    }

    func uint32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[startIndex + offset + $1]) << (8 * $1) }
    }
}
