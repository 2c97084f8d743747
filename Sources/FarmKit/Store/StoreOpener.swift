import Foundation
import Synchronization

/// Opens the store under a home folder on first need, once, and can tell whether a store exists
/// there without creating one (so a render refused before any work leaves no store behind).
final class StoreOpener: Sendable {
    let home: URL
    private let opened = Mutex<Store?>(nil)

    init(home: URL) {
        self.home = home
    }

    /// The store, when `farm.sqlite` exists under `home`; nil without creating anything otherwise.
    func existing() throws -> Store? {
        if let store = opened.withLock({ $0 }) { return store }
        guard FileStatus(home.appendingPathComponent("farm.sqlite"))?.isRegularFile == true else { return nil }
        return try open()
    }

    /// The store, created when missing.
    func open() throws -> Store {
        try opened.withLock { store in
            if let store { return store }
            let new = try Store(home: home)
            store = new
            return new
        }
    }
}
