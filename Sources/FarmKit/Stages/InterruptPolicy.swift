import Synchronization

/// What an interrupted run (Ctrl-C) does with the work it started on a remote service: a
/// training or prediction already paid for by the second.
public enum InterruptChoice: String, Sendable, CaseIterable {
    /// Ask the service to stop it (what renders do).
    case cancel
    /// Let it run to its end; the stage's journal keeps its id, so `farm runs resume` (or the same
    /// command again) re-attaches to it instead of starting another.
    case leave
}

/// The interrupt choice of the running command, shared with the remote stages it runs.
///
/// The command installs one as a task-local value around the graph it runs and may change the
/// choice up to the moment it cancels the graph (after asking on the terminal, say); a remote
/// stage reads `InterruptPolicy.effective` when it finds itself cancelled. Without a policy the
/// choice is `.cancel`.
public final class InterruptPolicy: Sendable {
    private let state: Mutex<InterruptChoice>

    public init(_ choice: InterruptChoice) {
        state = Mutex(choice)
    }

    /// The choice now.
    public var choice: InterruptChoice {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// The policy of the current task tree, if the command installed one.
    @TaskLocal public static var current: InterruptPolicy?

    /// What a cancelled remote stage does: the current policy's choice, else `.cancel`.
    public static var effective: InterruptChoice { current?.choice ?? .cancel }
}
