import FarmKit

/// A `StageJournal` that keeps its entries in memory, for tests.
public actor MemoryJournal: StageJournal {
    public private(set) var entries: [String: String] = [:]

    public init() {}

    public func remember(_ key: String, _ value: String) {
        entries[key] = value
    }

    public func recall(_ key: String) -> String? {
        entries[key]
    }
}
