#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive hold on one stage key, shared by every farm process on the same FARM_HOME: while
/// one process runs a stage, another that needs the same stage waits and then takes the cached
/// result instead of running (and paying for) it again. The kernel drops the hold when the
/// process ends in any way, SIGKILL included, so a crashed render never blocks the next one.
public final class StageLock: Sendable {
    private let descriptor: Int32

    fileprivate init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Gives the hold up; also done on deinit.
    public func release() {
        _ = flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}

extension Store {
    /// How often a waiting process checks whether the hold on a stage key is free.
    static let stageLockPollInterval: Duration = .milliseconds(100)

    /// Takes the hold on stage `key` (a digest), waiting without blocking a thread while another
    /// process or task holds it; `waiting` is called once when the wait begins. Cancellable.
    public func lockStage(_ key: String, waiting: @Sendable () -> Void = {}) async throws -> StageLock {
        precondition(Store.isDigest(key), "stage keys are digests")
        try StoreFiles.makeFolder(locksFolder)
        let file = locksFolder.appendingPathComponent(key + ".lock")
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.writeFailed(file, reason: StoreFiles.reason()) }
        let lock = StageLock(descriptor: descriptor)
        var announced = false
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw StoreError.writeFailed(file, reason: StoreFiles.reason())
            }
            if !announced {
                waiting()
                announced = true
            }
            try await Task.sleep(for: Store.stageLockPollInterval)
        }
        return lock
    }

    /// `locks/`: one empty file per stage key ever run, holding nothing but the flock.
    var locksFolder: URL { home.appendingPathComponent("locks", isDirectory: true) }
}
