import FarmKit
import FarmTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh store in a temporary folder, removed after `body`.
func withTemporaryStore(_ body: (Store, TemporaryDirectory) async throws -> Void) async throws {
    let folder = try TemporaryDirectory("farm-store")
    defer { folder.remove() }
    let store = try Store(home: folder.url.appendingPathComponent("home", isDirectory: true))
    try await body(store, folder)
}

/// Writes `text` to `url`, replacing the file.
@discardableResult
func writeFile(_ url: URL, _ text: String) throws -> URL {
    try Data(text.utf8).write(to: url)
    return url
}

/// Every regular file under `folder`, recursively.
func regularFiles(under folder: URL) -> [URL] {
    guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
    return enumerator.compactMap { $0 as? URL }.filter {
        (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
    }
}

/// Sets a path's modification time to `date` without following links.
func setModified(_ url: URL, to date: Date) throws {
    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
}

/// The permission bits of a file.
func permissions(_ url: URL) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// The raw `stat` modification time of a file, for restoring it exactly.
func modificationTime(_ url: URL) -> timespec {
    var info = stat()
    stat(url.path, &info)
    #if canImport(Darwin)
    return info.st_mtimespec
    #else
    return info.st_mtim
    #endif
}

/// Restores a modification time read by `modificationTime`.
func restoreModificationTime(_ url: URL, _ time: timespec) {
    var times = [time, time]
    utimensat(AT_FDCWD, url.path, &times, 0)
}

var runningAsRoot: Bool { getuid() == 0 }
