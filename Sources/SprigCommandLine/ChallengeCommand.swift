import ArgumentParser
import Foundation
import Sprig

/// `sprig challenge`: the Sparse DNN Graph Challenge.
struct ChallengeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "challenge", abstract: "The Sparse DNN Graph Challenge: inference on the challenge's networks.",
        subcommands: [ChallengeRunCommand.self, ChallengeGenerateCommand.self])
}
