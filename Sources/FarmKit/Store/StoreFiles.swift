#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// Runs blocking file work (hashing, copying, walking folders) on a dedicated queue, so it never
/// occupies a thread of Swift's cooperative pool.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "farm.store.io", qos: .utility, attributes: .concurrent)

    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// What `stat(2)` says about a path.
struct FileStatus: Equatable {
    let size: Int64
    let modifiedNanoseconds: Int64
    let inode: UInt64
    let isDirectory: Bool
    let isRegularFile: Bool

    /// The status of `url`, following symbolic links unless `followLinks` is false; nil when the
    /// path does not exist (or cannot be examined).
    init?(_ url: URL, followLinks: Bool = true) {
        var info = stat()
        let result = followLinks ? stat(url.path, &info) : lstat(url.path, &info)
        guard result == 0 else { return nil }
        size = Int64(info.st_size)
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        modifiedNanoseconds = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        inode = UInt64(info.st_ino)
        let type = info.st_mode & S_IFMT
        isDirectory = type == S_IFDIR
        isRegularFile = type == S_IFREG
    }

    var modified: Date { Date(timeIntervalSince1970: Double(modifiedNanoseconds) / 1e9) }
}

/// Small POSIX file operations with errors that name the path.
enum StoreFiles {
    static func reason(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Creates `url` (one level) unless it already is a folder; fsyncs the parent when it made it.
    static func makeFolder(_ url: URL) throws {
        if mkdir(url.path, 0o755) == 0 {
            try syncFolder(url.deletingLastPathComponent())
            return
        }
        let code = errno
        guard code == EEXIST, FileStatus(url)?.isDirectory == true else {
            throw StoreError.writeFailed(url, reason: reason(code))
        }
    }

    /// Flushes a file's bytes to disk.
    static func syncFile(_ url: URL) throws {
        try sync(url, flags: O_RDONLY)
    }

    /// Flushes a folder's entries (a rename into it, a new file) to disk.
    static func syncFolder(_ url: URL) throws {
        try sync(url, flags: O_RDONLY | O_DIRECTORY)
    }

    private static func sync(_ url: URL, flags: Int32) throws {
        let fd = open(url.path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.writeFailed(url, reason: reason()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StoreError.writeFailed(url, reason: reason()) }
    }

    /// The SHA-256 (lowercase hex) of the file at `url`.
    static func digest(of url: URL) throws -> String {
        do {
            return try SHA256.hexOfFile(at: url)
        } catch {
            throw StoreError.unreadable(url, reason: error.reason)
        }
    }

    /// Copies `source` to the new file `destination`, fsyncs it and returns the SHA-256 of the
    /// bytes copied (hashed on the way). A failed copy leaves no file.
    static func copy(_ source: URL, to destination: URL) throws -> String {
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.unreadable(source, reason: reason()) }
        defer { close(input) }
        let output = open(destination.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw StoreError.writeFailed(destination, reason: reason()) }
        do {
            defer { close(output) }
            var hasher = SHA256()
            let capacity = 1 << 20
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let count = read(input, buffer, capacity)
                if count == 0 { break }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.unreadable(source, reason: reason())
                }
                hasher.update(UnsafeRawBufferPointer(start: buffer, count: count))
                var written = 0
                while written < count {
                    let n = write(output, buffer + written, count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw StoreError.writeFailed(destination, reason: reason())
                    }
                    written += n
                }
            }
            guard fsync(output) == 0 else { throw StoreError.writeFailed(destination, reason: reason()) }
            return SHA256.hexString(hasher.finalize())
        } catch {
            unlink(destination.path)
            throw error
        }
    }

    /// Moves `source` to `destination` (renaming when both are on one filesystem, copying and
    /// removing the source otherwise), fsyncs the moved bytes and returns their SHA-256.
    static func move(_ source: URL, to destination: URL) throws -> String {
        if rename(source.path, destination.path) == 0 {
            try syncFile(destination)
            return try digest(of: destination)
        }
        let code = errno
        guard code == EXDEV else { throw StoreError.writeFailed(destination, reason: reason(code)) }
        let digest = try copy(source, to: destination)
        unlink(source.path)
        return digest
    }

    /// Renames `source` over `destination` (atomic on one filesystem).
    static func replace(_ destination: URL, with source: URL) throws {
        guard rename(source.path, destination.path) == 0 else {
            throw StoreError.writeFailed(destination, reason: reason())
        }
    }

    static func makeReadOnly(_ url: URL) throws {
        guard chmod(url.path, 0o444) == 0 else { throw StoreError.writeFailed(url, reason: reason()) }
    }

    static func remove(_ url: URL) throws {
        guard unlink(url.path) == 0 else { throw StoreError.writeFailed(url, reason: reason()) }
    }

    /// The bytes under `url` (a file, or a folder walked without following links).
    static func treeSize(_ url: URL) -> Int64 {
        guard let status = FileStatus(url, followLinks: false) else { return 0 }
        guard status.isDirectory else { return status.size }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.reduce(0) { $0 + treeSize(url.appendingPathComponent($1)) }
    }

    /// Whether a process with this id exists (on this machine).
    static func isProcessAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
