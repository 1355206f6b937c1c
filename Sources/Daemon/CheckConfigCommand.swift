import CompactText
import Config
import CountryPresets
import SIPMessage

/// `atad check-config FILE...`: every problem on its own line, then a short
/// summary of each valid file.
enum CheckConfigCommand {
    static func run(files: [String]) -> Int32 {
        var allValid = true
        for file in files {
            if !check(file) { allValid = false }
        }
        return allValid ? 0 : 1
    }

    private static func check(_ file: String) -> Bool {
        let isBoard: Bool
        switch ConfigFiles.read(file) {
        case .failure(let reason):
            Console.err(Diagnostic(file: file, line: nil, message: "cannot read: \(reason)").text)
            return false
        case .contents(let bytes, _):
            isBoard = ConfigLoader.isBoardFile(bytes)
        }
        if isBoard {
            let (board, diagnostics) = ConfigLoader.loadBoard(path: file, read: ConfigFiles.read)
            for diagnostic in diagnostics { Console.err(diagnostic.text) }
            guard let board else { return false }
            Console.out("\(file): ok: board '\(board.name)', driver \(board.driver.rawValue), \(lineCount(board.lines.count))")
            return true
        }
        let result = ConfigFiles.loadSite(file)
        for diagnostic in result.diagnostics { Console.err(diagnostic.text) }
        guard let site = result.site else { return false }
        let country = CountryPresets.preset(code: site.country)?.name ?? site.country
        Console.out("\(file): ok")
        Console.out("  board: \(site.boardPath): '\(site.board.name)', driver \(site.board.driver.rawValue), \(lineCount(site.board.lines.count))")
        Console.out("  country: \(site.country) (\(country)); log level \(site.logLevel)")
        Console.out("  control socket: \(site.controlSocket)")
        let port = site.sipListenPort == 0 ? "0 (any free port)" : "\(site.sipListenPort)"
        Console.out("  sip: \(site.sipListenAddress) port \(port); \(site.accounts.count) account(s)")
        for account in site.accounts {
            Console.out("  account \(account.name): \(account.user)@\(account.domain) over \(account.transport.rawValue)")
        }
        return true
    }

    private static func lineCount(_ count: Int) -> String {
        count == 1 ? "1 line" : "\(count) lines"
    }
}
