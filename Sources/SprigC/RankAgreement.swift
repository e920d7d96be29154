import Sprig

/// Checks that can fail on one rank only (a bad label in one rank's arrays, a keyword one
/// rank got wrong) must fail on every rank together: a rank that raised alone would leave the
/// others waiting in the run's first collective, and pair its own next call with theirs. Every
/// rank calls `agree` once with its own outcome; when any rank failed, every rank throws the
/// first failing rank's error ("rank r of P: …", with its status).
enum RankAgreement {
    static func agree(_ local: Error?, communicator: any Communicator) throws {
        guard communicator.size > 1 else {
            if let local { throw local }
            return
        }
        let status = local.map { CallStatus.status(of: $0) } ?? .success
        let statuses = try communicator.allGather(UInt64(status.rawValue))
        guard let first = statuses.firstIndex(where: { $0 != 0 }) else { return }
        let mine = communicator.rank == first ? CallStatus.message(for: local!) : ""
        let message = try communicator.broadcastBytes(Array(mine.utf8), root: first)
        throw AgreedFailure(status: CallStatus(rawValue: Int32(statuses[first])) ?? .failure,
                            message: "rank \(first) of \(communicator.size): " + String(decoding: message, as: UTF8.self))
    }
}
