/// Help texts for `atad --help` and `atad help COMMAND`.
enum Usage {
    static let summary = """
    usage: atad COMMAND [OPTIONS]

    atad turns a Linux board with a SLIC module into an analog telephone adapter.

    commands:
      run --config FILE      run the daemon in the foreground
      check-config FILE...   validate site and board files
      ctl COMMAND [ARGS]     talk to a running daemon over its control socket
      safe --config FILE     drive the ringer outputs to rest (after a crash)
      help [COMMAND]         show help
      --version              show the version
    """

    static let run = """
    usage: atad run --config FILE [--syslog] [--log-level LEVEL]

    Runs the daemon in the foreground until SIGTERM or SIGINT (or `atad ctl quit`).
    SIGHUP (or `atad ctl reload`) re-reads the config without dropping calls.

      --config, -c FILE   the site file; it names the board file
      --syslog            log to syslog instead of stderr
      --log-level LEVEL   error, warn, info or debug (overrides log_level)
    """

    static let checkConfig = """
    usage: atad check-config FILE...

    Validates each site file (and the board file it names) or board file, and
    prints every problem as FILE:LINE: error: MESSAGE. Exits 0 when all files
    are valid, 1 otherwise.
    """

    static let ctl = """
    usage: atad ctl [--socket PATH | --config FILE] COMMAND [ARGS...]

    Sends one command to a running daemon and prints its reply. Exits 0 on ok,
    1 on an error reply, 3 when the daemon cannot be reached. The socket is
    PATH, or the control_socket of the site FILE, or /run/atad/control.sock.

    commands:
      status              daemon state and one line per telephone line
      reload              re-read the config (like SIGHUP)
      quit                shut the daemon down (like SIGTERM)
      help                list the commands the daemon understands
    """

    static let safe = """
    usage: atad safe --config FILE

    Drives each line's ringer outputs to rest without the daemon: ring mode
    (RM) off and forward/reverse (F/R) forward, then exits. The systemd unit
    runs it after atad stops, so a daemon killed during a ring burst does not
    leave the SLIC in ring mode. Fails (exit 1) while atad holds the lines.
    Does nothing on the simulated board.

      --config, -c FILE   the site file; it names the board file
    """

    static func text(for topic: String) -> String? {
        switch topic {
        case "run": return run
        case "check-config": return checkConfig
        case "ctl": return ctl
        case "safe": return safe
        case "help": return summary
        default: return nil
        }
    }
}
