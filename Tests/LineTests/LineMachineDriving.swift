import CountryPresets
import DialPlan
import Line
import Timebase
import XCTest

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

/// A line with `country`'s preset and its hook windows (us: flash
/// 100-900 ms, hang-up at 1100 ms), dialing seven digits or a *xx code.
func presetLine(country: String = "us") throws -> LineMachine {
    let preset = try XCTUnwrap(CountryPresets.preset(code: country))
    var timings = LineTimings()
    timings.flashMinimum = .milliseconds(Int64(preset.flashMinimumMs))
    timings.flashMaximum = .milliseconds(Int64(preset.flashMaximumMs))
    timings.hangUp = .milliseconds(Int64(preset.hangUpMs))
    return LineMachine(lineNumber: 1, preset: preset, timings: timings,
                       digitMap: try DigitMap.parse("([2-9]xxxxxx|*xx)"), hotline: nil)
}
