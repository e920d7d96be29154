import ArgumentParser
import Foundation
import Sprig

/// `sprig cache`: the Graph Challenge's network cache (`NetworkCache`).
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show or clear the Graph Challenge's network cache.",
        discussion: """
        challenge run keeps a binary copy of each network it reads in $SPRIG_CACHE_DIR, else \
        $XDG_CACHE_HOME/sprig, else ~/.cache/sprig. The copies together stay within \
        SPRIG_CACHE_MAX_BYTES (default 1 GiB; K, M, G and T count in 1024s; 0: nothing is written): \
        after each write the least recently used ones are removed. Only files named as cache \
        files (n{N}-l{L}-{hash}.sprignet) are counted or removed.
        """,
        subcommands: [Info.self, Clear.self])

    /// `sprig cache info`: the directory, the files, their total size and the cap.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info", abstract: "Print the cache's directory, files, total size and cap.")

        func run() throws {
            let directory = NetworkCache.directory()
            let maximum = try NetworkCache.maximumBytes()
            let entries = try NetworkCache.entries(in: directory)
            let total = entries.reduce(0) { $0 + $1.bytes }
            let capSource = ProcessInfo.processInfo.environment[NetworkCache.maximumBytesVariable] == nil
                ? "the default; set \(NetworkCache.maximumBytesVariable) to change it" : NetworkCache.maximumBytesVariable
            print("path   \(directory)\(FileManager.default.fileExists(atPath: directory) ? "" : " (not created yet)")")
            print("files  \(entries.count)")
            print("size   \(CacheCommand.bytes(total))")
            print("cap    \(CacheCommand.bytes(maximum)) (\(capSource))")
        }
    }

    /// `sprig cache clear`: removes the cache files, and nothing else.
    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear", abstract: "Remove the cache's files (only those; the directory and anything else in it stay).")

        func run() throws {
            let directory = NetworkCache.directory()
            let removed = try NetworkCache.clear(in: directory)
            print("removed \(removed.files) cache file\(removed.files == 1 ? "" : "s") from \(directory): "
                  + "\(CacheCommand.bytes(removed.bytes)) freed")
        }
    }

    /// "133169152 bytes (127.0 MiB)".
    static func bytes(_ count: Int) -> String {
        count < 1 << 20 ? "\(count) bytes" : "\(count) bytes (\(MemoryBudget.describe(count)))"
    }
}
