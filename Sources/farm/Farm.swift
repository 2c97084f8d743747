import ArgumentParser
import FarmKit

@main
struct Farm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "farm", abstract: "A render farm for AI song-cover music videos.")
}
