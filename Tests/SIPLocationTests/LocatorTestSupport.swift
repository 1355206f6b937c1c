import SIPLocation
import SIPMessage
import XCTest

func naptrQuery(_ name: String) -> DNSQuery { DNSQuery(name: name, type: .naptr) }
func srvQuery(_ name: String) -> DNSQuery { DNSQuery(name: name, type: .srv) }
func addressQuery(_ name: String) -> DNSQuery { DNSQuery(name: name, type: .addresses) }

func naptr(_ order: UInt16, _ preference: UInt16, _ flags: String, _ service: String, _ replacement: String) -> NAPTRRecord {
    NAPTRRecord(order: order, preference: preference, flags: flags, service: service, replacement: replacement)
}

func srv(_ priority: UInt16, _ weight: UInt16, _ port: UInt16, _ target: String) -> SRVRecord {
    SRVRecord(priority: priority, weight: weight, port: port, target: target)
}

func target(_ address: String, _ port: UInt16, _ hostName: String, _ transport: SIPTransport = .udp) -> ServerTarget {
    ServerTarget(address: address, port: port, transport: transport, hostName: hostName)
}

/// A `random` that returns scripted values in turn (then 0) and records
/// the bounds it was asked for.
final class ScriptedRandom {
    private var values: [UInt32]
    private(set) var bounds: [UInt32] = []

    init(_ values: [UInt32] = []) { self.values = values }

    func next(_ bound: UInt32) -> UInt32 {
        bounds.append(bound)
        let value = values.isEmpty ? 0 : values.removeFirst()
        XCTAssertLessThan(value, bound, "scripted random value out of range")
        return value
    }
}

func makeLocator(_ host: String, port: UInt16? = nil, transport: SIPTransport = .udp,
                 random: ScriptedRandom = ScriptedRandom()) -> SIPServerLocator {
    SIPServerLocator(host: host, port: port, transport: transport, random: { random.next($0) })
}
