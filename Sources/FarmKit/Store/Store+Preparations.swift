import Foundation
import GRDB

extension Store {
    /// The facts a preflight found before for the input `key` names (see
    /// `RenderService.preflightMemoKey`), or nil when it was never checked.
    func checkedPreparation(_ key: String) async throws -> [String: JSON]? {
        let text = try await databaseRead { db in
            try String.fetchOne(db, sql: "SELECT facts FROM checked_preparations WHERE key = ?", arguments: [key])
        }
        guard let text, let facts = try? JSON.parse(text, source: "checked_preparations").objectValue else { return nil }
        return facts.dictionary
    }

    /// Records that a preflight found `facts` for the input `key` names.
    func keepCheckedPreparation(_ key: String, facts: [String: JSON]) async throws {
        let text = JSON.object(JSONObject(facts.sorted { $0.key < $1.key })).canonicalString
        try await databaseWrite { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO checked_preparations (key, facts, checked_at) VALUES (?, ?, ?)",
                arguments: [key, text, Date().storeTime])
        }
    }
}
