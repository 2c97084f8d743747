import Foundation

/// A folder nobody may write, root included. Root ignores permission bits but not a read-only
/// mount, so as root a tmpfs is mounted on the folder and remounted read-only; otherwise the
/// folder's mode becomes 0555. It starts writable, so a test can fill it before `lock()`;
/// `release()` undoes everything (unmounts, restores the mode) and must always be called.
public struct ReadOnlyFolder: Sendable {
    public let url: URL
    private let mounted: Bool

    /// Whether one can be made here: not root (mode bits work), or root allowed to mount a tmpfs.
    public static let isAvailable: Bool = {
        guard geteuid() == 0 else { return true }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("farm-ro-probe-\(getpid())")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard mountTmpfs(at: probe, flags: 0) else { return false }
        umount(probe.path)
        return true
    }()

    /// Makes the (writable) folder at `url`, a tmpfs of 16 MiB when running as root.
    public init(at url: URL) throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        self.url = url
        mounted = geteuid() == 0
        if mounted, !Self.mountTmpfs(at: url, flags: 0) { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
    }

    /// Makes the folder read-only.
    public func lock() throws {
        let done = mounted ? Self.mountTmpfs(at: url, flags: UInt(MS_REMOUNT | MS_RDONLY)) : chmod(url.path, 0o555) == 0
        if !done { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM) }
    }

    /// Unmounts the tmpfs (dropping what it holds) or makes the folder writable again.
    public func release() {
        if mounted { umount(url.path) } else { chmod(url.path, 0o755) }
    }

    private static func mountTmpfs(at url: URL, flags: UInt) -> Bool {
        "size=16m".withCString { options in mount("tmpfs", url.path, "tmpfs", flags, options) == 0 }
    }
}
