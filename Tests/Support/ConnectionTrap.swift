import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that nothing should reach: it counts the connections made to it and
/// closes each at once. Given as every proxy (`proxyEnvironment`), it shows whether a program made
/// any HTTP request at all, and keeps it off the network either way.
public final class ConnectionTrap: Sendable {
    public let port: Int
    private let socket: Int32
    private let state = Mutex<(connections: Int, stopped: Bool)>((0, false))
    private let done = DispatchSemaphore(value: 0)

    public init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.failure("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 16) == 0 else {
            let error = Self.failure("bind/listen")
            close(fd)
            throw error
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        // Blocking accepts on a thread of its own, never the cooperative pool.
        Thread.detachNewThread { [self] in acceptUntilStopped() }
    }

    /// `http_proxy`, `https_proxy`, `all_proxy` (both cases) pointing here, and no `no_proxy`.
    public var proxyEnvironment: [String: String] {
        let proxy = "http://127.0.0.1:\(port)"
        var environment: [String: String] = ["no_proxy": "", "NO_PROXY": ""]
        for name in ["http_proxy", "https_proxy", "all_proxy"] {
            environment[name] = proxy
            environment[name.uppercased()] = proxy
        }
        return environment
    }

    /// How many connections were made so far.
    public var connections: Int { state.withLock { $0.connections } }

    /// Stops listening and waits for the accepting thread to end. Safe to call again.
    public func stop() {
        let first = state.withLock { state in defer { state.stopped = true }; return !state.stopped }
        guard first else { return }
        shutdown(socket, Int32(SHUT_RDWR))  // wakes the blocked accept
        done.wait()
        close(socket)
    }

    private func acceptUntilStopped() {
        defer { done.signal() }
        while true {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            close(client)
            let stopped = state.withLock { state in
                if !state.stopped { state.connections += 1 }
                return state.stopped
            }
            if stopped { return }
        }
    }

    private static func failure(_ call: String) -> any Error {
        CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(call): \(String(cString: strerror(errno)))"])
    }
}
