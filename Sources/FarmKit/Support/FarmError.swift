/// An error a user can act on: a one-line message, an optional hint, and the exit code it means.
///
/// The CLI prints `error: <message>` and `hint: <hint>` for these, never a stack trace.
public protocol FarmError: Error, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
    /// 1 for work that failed, 2 for bad usage, configuration or input.
    var exitCode: Int32 { get }
}

extension FarmError {
    public var description: String { message }
}

/// Exit codes shared by every command.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let stageFailed: Int32 = 1
    public static let badInput: Int32 = 2
    public static let interrupted: Int32 = 130
}

extension StageFailure: FarmError {
    public var exitCode: Int32 { isBadInput ? ExitStatus.badInput : ExitStatus.stageFailed }
}

/// Suggests the closest of `candidates` to a misspelt `word`, for "did you mean" hints.
func closest(to word: String, in candidates: some Sequence<String>) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let target = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(target, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, target.count / 3) else { return nil }
    return best.0
}
