import Line
import Timebase

/// A line test that drives a `LineMachine` on a manual clock: each input
/// at `now`, time moved on with every deadline run as it falls due, and
/// every action kept in `actions` for the assertions.
protocol LineMachineDriving: AnyObject {
    var now: Instant { get set }
    var machine: LineMachine! { get set }
    var actions: [LineAction] { get set }
}

extension LineMachineDriving {
    @discardableResult
    func send(_ input: LineInput) -> [LineAction] {
        let result = machine.handle(input, at: now)
        actions += result
        return result
    }

    func wait(_ interval: Interval) {
        let end = now + interval
        while let due = machine.nextDeadline, due <= end {
            now = due
            actions += machine.advance(to: now)
        }
        now = end
    }
}
