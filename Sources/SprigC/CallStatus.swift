import ArgumentParser
import Foundation
import Sprig
import SprigArguments

/// How a C call ended, as the Python package maps it to an exception: 0 success, 1 a bad
/// argument (`ValueError`), 2 a missing file (`FileNotFoundError`), 3 any other failure
/// (`sprig.SprigError`), 4 a run stopped at the caller's request (`KeyboardInterrupt`), 5 an
/// argument of the wrong kind (`TypeError`). The one-line message of the calling thread's last
/// failure is `sprig_last_error()`.
enum CallStatus: Int32 {
    case success = 0, invalidArgument = 1, fileNotFound = 2, failure = 3, interrupted = 4, wrongType = 5

    private nonisolated(unsafe) static var messages: [UInt: String] = [:]
    private static let lock = NSLock()

    /// Runs `body`, turning any error into its status and keeping its message; the caller's
    /// floating-point modes and OpenBLAS threads are as they were afterwards (`CallerState`).
    static func run(_ body: () throws -> Void) -> Int32 {
        let state = CallerState()
        defer { state.restore() }
        do {
            try body()
            return success.rawValue
        } catch {
            lock.withLock { messages[threadKey] = message(for: error) }
            return status(of: error).rawValue
        }
    }

    /// The calling thread's last message (empty when none).
    static var lastMessage: String { lock.withLock { messages[threadKey] ?? "" } }

    private static var threadKey: UInt { UInt(pthread_self()) }

    /// The one line that describes `error`.
    static func message(for error: Error) -> String {
        if let agreed = error as? AgreedFailure { return agreed.message }
        let text = errorMessage(for: error, fallback: TrainArguments.message(for: error))
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    }

    static func status(of error: Error) -> CallStatus {
        switch error {
        case let agreed as AgreedFailure: return agreed.status
        case is TrainingInterrupted: return .interrupted
        case SprigError.invalidArgument, SprigError.invalidField: return .invalidArgument
        case SprigError.io(_, let reason) where reason.hasPrefix("no such file"): return .fileNotFound
        case is SprigError: return .failure
        default:
            // A flag that does not exist is a keyword that does not exist: Python's TypeError.
            if message(for: error).hasPrefix("Unknown option") { return .wrongType }
            return TrainArguments.exitCode(for: error) == .validationFailure ? .invalidArgument : .failure
        }
    }
}

/// A failure that every rank of a job reports alike (`RankAgreement`): the status and the
/// message of the first rank that failed.
struct AgreedFailure: Error, CustomStringConvertible {
    let status: CallStatus
    let message: String
    var description: String { message }
}
