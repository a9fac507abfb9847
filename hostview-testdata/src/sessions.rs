//! Canned session databases: small, hand-written client sessions with known contents.
//!
//! Every function takes the session start `session_ms` (UTC epoch milliseconds, called `T` in
//! the docs) and writes all timestamps as offsets from it, so a test can place a session in any
//! week. The functions create a new file, vacuum it and close it, so equal arguments give
//! byte-for-byte equal files.

use std::path::Path;

use anyhow::Result;
use rusqlite::types::Null;

use crate::expected::{Expected, RowWriter};
use crate::schema::{ClientSchema, create_session_db, finish_session_db};

/// A network adapter as the client describes it in `connectivity` rows.
struct Adapter {
    guid: &'static str,
    friendly_name: &'static str,
    description: &'static str,
    dns_suffix: &'static str,
    mac: &'static str,
    speed_bps: i64,
    wireless: bool,
    /// Wi-Fi profile, SSID, BSSID, BSS type and PHY type, which are empty strings for wired
    /// adapters.
    wifi: [&'static str; 5],
    phy_index: i64,
    channel: i64,
}

const WIFI: Adapter = Adapter {
    guid: "{5B1D7C9A-2E4F-4A6B-8C3D-1F0E9A7B6C52}",
    friendly_name: "Wi-Fi",
    description: "Intel(R) Dual Band Wireless-AC 8260",
    dns_suffix: "home.example",
    mac: "A4-34-D9-00-00-01",
    speed_bps: 144_400_000,
    wireless: true,
    wifi: [
        "ExampleNet",
        "ExampleNet",
        "02-00-5E-00-00-11",
        "infrastructure",
        "802.11ac",
    ],
    phy_index: 1,
    channel: 36,
};

const ETHERNET: Adapter = Adapter {
    guid: "{0D8E3B61-7A2C-4F95-B4E1-6C3A9F2D5E70}",
    friendly_name: "Ethernet",
    description: "Intel(R) Ethernet Connection I219-LM",
    dns_suffix: "corp.example",
    mac: "54-EE-75-00-00-02",
    speed_bps: 1_000_000_000,
    wireless: false,
    wifi: ["", "", "", "", ""],
    phy_index: 0,
    channel: 0,
};

const BLUETOOTH: Adapter = Adapter {
    guid: "{9C4F1A2B-3D5E-4F60-8A7B-2C1D0E9F8A63}",
    friendly_name: "Bluetooth Network Connection",
    description: "Bluetooth Device (Personal Area Network)",
    dns_suffix: "",
    mac: "00-1A-7D-00-00-03",
    speed_bps: 3_000_000,
    wireless: false,
    wifi: ["", "", "", "", ""],
    phy_index: 0,
    channel: 0,
};

/// Address lists of one `connectivity` row, each comma-separated as the client writes them.
struct Addresses {
    ips: &'static str,
    gateways: &'static str,
    dnses: &'static str,
}

fn insert_connectivity(
    writer: &mut RowWriter<'_>,
    adapter: &Adapter,
    addresses: &Addresses,
    connected: bool,
    timestamp_ms: i64,
) -> Result<()> {
    let [profile, ssid, bssid, bssid_type, phy_type] = adapter.wifi;
    writer.insert(
        "connectivity",
        &[
            &adapter.guid,
            &adapter.friendly_name,
            &adapter.description,
            &adapter.dns_suffix,
            &adapter.mac,
            &addresses.ips,
            &addresses.gateways,
            &addresses.dnses,
            &adapter.speed_bps,
            &adapter.speed_bps,
            &adapter.wireless,
            &profile,
            &ssid,
            &bssid,
            &bssid_type,
            &phy_type,
            &adapter.phy_index,
            &adapter.channel,
            &connected,
            &timestamp_ms,
        ],
    )
}

/// Inserts a `sysinfo` row. `timezone_offset` is the unsigned 32-bit value the client writes:
/// Windows stores the bias UTC − local in minutes, so UTC+1 (bias −60) becomes 4294967236.
fn insert_sysinfo(
    writer: &mut RowWriter<'_>,
    timestamp_ms: i64,
    hostview_version: &str,
    timezone: &str,
    timezone_offset: u32,
) -> Result<()> {
    writer.insert(
        "sysinfo",
        &[
            &timestamp_ms,
            &"Dell Inc.",
            &"Latitude E7450",
            &"Windows 10 Enterprise AMD64",
            &"Intel(R) Core(TM) i7-5600U CPU @ 2.60GHz",
            &17_062_584_320_i64,
            &511_101_108_224_i64,
            &"EXAMPLE01",
            &hostview_version,
            &7,
            &timezone,
            &timezone_offset,
        ],
    )
}

/// Writes a session with a few rows in every table of the new schema and the edge cases an
/// importer must handle. Times below are offsets from `T = session_ms`.
///
/// Row counts: session 10, sysinfo 1, connectivity 5, wifistats 4, procs 6, ports 6,
/// activity 4, io 3, http 3, dns 5, location 4, browseractivity 2, powerstate 4, netlabel 2,
/// esm 2, esm_activity_tags 3, esm_problem_tags 2, esm_activity_qoe 3,
/// esm_activity_importance 3.
///
/// Session events, one of each kind: start T, pause T+600 000, restart T+660 000,
/// suspend T+1 200 000, resume T+1 500 000, autostop T+1 800 000, autorestart T+1 860 000,
/// stop T+2 400 000, autostart T+2 460 000, stop T+3 600 000. So the earliest start event is
/// at T and the latest stop event at T+3 600 000. The latest data row is at T+2 700 000.
///
/// Connectivity, 3 connections (3 rows with `connected = 1`) and 2 disconnects:
/// - Wi-Fi `{5B1D7C9A-…}` connects at T+2 000 and disconnects at T+1 190 000. Its `ips` are
///   `"fe80::1c2b:3d4e:5f60:7182%14, 10.20.30.41,,::ffff:10.1.2.3"` (zone suffix, a space, an
///   empty item, an IPv4-mapped IPv6 address) and its `dnses` end with an empty item.
/// - Ethernet `{0D8E3B61-…}` connects at T+5 000 and never disconnects. Its Wi-Fi text columns
///   are empty strings.
/// - Bluetooth `{9C4F1A2B-…}` has one `connected = 0` row at T+30 000 and never connected.
/// - Wi-Fi reconnects at T+1 502 000 and stays connected. Its `gateways` are
///   `"10.20.30.1,not-an-address"`, with one unparsable item.
///
/// Other edge cases:
/// - `sysinfo.timezone_offset` is 4294967236 (−60 as unsigned 32-bit).
/// - `ports` contains `::ffff:10.20.30.41` (IPv4-mapped), `fe80::1c2b:3d4e:5f60:7182%14`, an
///   empty `destip` on UDP listeners, an empty process name, and the unparsable `destip`
///   `999.0.0.1`.
/// - `dns` has a CNAME row (type 5) whose `ip` is the host name `cdn.example.net`, one row for
///   the Ethernet connection (`connstart` T+5 000), and one row with `connstart` T+777, which
///   matches no connection. `http` also has one row with `connstart` T+777.
/// - `location` has 4 rows, 3 distinct: the Wi-Fi row with `connstart` T+2 000 appears twice,
///   identical in every column.
/// - `esm` has surveys at T+900 000 (`qoe_score` 4) and T+2 700 000 (`qoe_score` NULL). Each of
///   the 4 child tables has rows with both timestamps: 2+1 activity tags, 1+1 problem tags,
///   2+1 QoE rows, 2+1 importance rows. One tag list is `"browsing, work,,"`.
/// - Empty strings in `activity.description`, `browseractivity.location`, `netlabel.label`,
///   `location.reverse_dns` and `http.referer`.
pub fn full_session(path: &Path, session_ms: i64) -> Result<Expected> {
    let t = session_ms;
    let conn = create_session_db(path, ClientSchema::New)?;
    let tx = conn.unchecked_transaction()?;
    let mut writer = RowWriter::new(&tx, ClientSchema::New);

    for (offset, event) in [
        (0, "start"),
        (600_000, "pause"),
        (660_000, "restart"),
        (1_200_000, "suspend"),
        (1_500_000, "resume"),
        (1_800_000, "autostop"),
        (1_860_000, "autorestart"),
        (2_400_000, "stop"),
        (2_460_000, "autostart"),
        (3_600_000, "stop"),
    ] {
        writer.event(t + offset, event)?;
    }

    insert_sysinfo(
        &mut writer,
        t,
        "2,1,3,0",
        "Romance Standard Time",
        (-60_i32) as u32,
    )?;

    let wifi_first = Addresses {
        ips: "fe80::1c2b:3d4e:5f60:7182%14, 10.20.30.41,,::ffff:10.1.2.3",
        gateways: "10.20.30.1",
        dnses: "10.20.30.1, 2001:db8:53::1,",
    };
    let wifi_second = Addresses {
        ips: "fe80::1c2b:3d4e:5f60:7182%14,10.20.30.52",
        gateways: "10.20.30.1,not-an-address",
        dnses: "10.20.30.1",
    };
    let ethernet = Addresses {
        ips: "10.20.31.77,2001:db8:31::77",
        gateways: "10.20.31.1",
        dnses: "10.20.31.1",
    };
    let no_addresses = Addresses {
        ips: "",
        gateways: "",
        dnses: "",
    };
    insert_connectivity(&mut writer, &WIFI, &wifi_first, true, t + 2_000)?;
    insert_connectivity(&mut writer, &ETHERNET, &ethernet, true, t + 5_000)?;
    insert_connectivity(&mut writer, &BLUETOOTH, &no_addresses, false, t + 30_000)?;
    insert_connectivity(&mut writer, &WIFI, &wifi_first, false, t + 1_190_000)?;
    insert_connectivity(&mut writer, &WIFI, &wifi_second, true, t + 1_502_000)?;
    writer.connection(WIFI.guid, WIFI.mac, t + 2_000, Some(t + 1_190_000));
    writer.connection(ETHERNET.guid, ETHERNET.mac, t + 5_000, None);
    writer.connection(WIFI.guid, WIFI.mac, t + 1_502_000, None);

    // guid, tspeed, rspeed, signal, rssi, state, timestamp
    for (signal, rssi, offset) in [
        (74, -61, 2_000),
        (70, -64, 32_000),
        (66, -67, 62_000),
        (80, -55, 1_532_000),
    ] {
        writer.insert(
            "wifistats",
            &[
                &WIFI.guid,
                &144_400_000,
                &130_000_000,
                &signal,
                &rssi,
                &1,
                &(t + offset),
            ],
        )?;
    }

    // pid, name, memory, cpu, timestamp
    for (pid, name, memory, cpu, offset) in [
        (4, "System", 140_i64, 0.0, 3_000),
        (912, "svchost.exe", 20_451_328, 0.0, 3_000),
        (4120, "chrome.exe", 182_345_728, 3.25, 3_000),
        (4, "System", 140, 0.5, 63_000),
        (912, "svchost.exe", 20_463_616, 0.0, 63_000),
        (4120, "chrome.exe", 190_840_832, 7.5, 63_000),
    ] {
        writer.insert("procs", &[&pid, &name, &memory, &cpu, &(t + offset)])?;
    }

    // pid, name, protocol (6 TCP, 17 UDP), srcip, destip, srcport, destport, state, timestamp
    for (pid, name, protocol, src, dest, src_port, dest_port, state, offset) in [
        (
            4120,
            "chrome.exe",
            6,
            "10.20.30.41",
            "198.18.7.20",
            50612,
            443,
            5,
            3_001,
        ),
        (
            4120,
            "chrome.exe",
            6,
            "::ffff:10.20.30.41",
            "::ffff:198.18.7.21",
            50615,
            443,
            5,
            3_001,
        ),
        (912, "svchost.exe", 17, "0.0.0.0", "", 5353, 0, 0, 3_001),
        (
            4,
            "",
            17,
            "fe80::1c2b:3d4e:5f60:7182%14",
            "",
            546,
            0,
            0,
            3_001,
        ),
        (
            4120,
            "chrome.exe",
            6,
            "10.20.30.41",
            "999.0.0.1",
            50620,
            80,
            8,
            63_001,
        ),
        (
            5400,
            "Skype.exe",
            6,
            "2001:db8:31::77",
            "2001:db8:5::10",
            50700,
            443,
            5,
            63_001,
        ),
    ] {
        writer.insert(
            "ports",
            &[
                &pid,
                &name,
                &protocol,
                &src,
                &dest,
                &src_port,
                &dest_port,
                &state,
                &(t + offset),
            ],
        )?;
    }

    // user, pid, name, description, fullscreen, idle, timestamp
    for (pid, name, description, fullscreen, idle, offset) in [
        (
            4120,
            "chrome.exe",
            "Example Domain - Google Chrome",
            0,
            0,
            2_500,
        ),
        (
            4120,
            "chrome.exe",
            "Example Domain - Google Chrome",
            0,
            1,
            120_000,
        ),
        (
            5400,
            "vlc.exe",
            "movie.mkv - VLC media player",
            1,
            0,
            300_000,
        ),
        (3020, "explorer.exe", "", 0, 0, 900_000),
    ] {
        writer.insert(
            "activity",
            &[
                &"participant01",
                &pid,
                &name,
                &description,
                &fullscreen,
                &idle,
                &(t + offset),
            ],
        )?;
    }

    // device, pid, name, timestamp
    for (device, pid, name, offset) in [
        (3, 4120, "chrome.exe", 3_500),
        (1, 4120, "chrome.exe", 8_500),
        (1, 5400, "vlc.exe", 301_000),
    ] {
        writer.insert("io", &[&device, &pid, &name, &(t + offset)])?;
    }

    // connstart, httpverb, httpverbparam, httpstatuscode, httphost, referer, contenttype,
    // contentlength, protocol, srcip, destip, srcport, destport, timestamp
    writer.insert(
        "http",
        &[
            &(t + 2_000),
            &"GET",
            &"/index.html",
            &"200",
            &"www.example.com",
            &"",
            &"text/html; charset=utf-8",
            &"5120",
            &6,
            &"198.18.7.20",
            &"10.20.30.41",
            &80,
            &50613,
            &(t + 10_000),
        ],
    )?;
    writer.insert(
        "http",
        &[
            &(t + 2_000),
            &"GET",
            &"/logo.png",
            &"304",
            &"www.example.com",
            &"http://www.example.com/index.html",
            &"",
            &"",
            &6,
            &"2001:db8:4a1:7::20",
            &"2001:db8:30::41",
            &80,
            &50614,
            &(t + 10_050),
        ],
    )?;
    writer.insert(
        "http",
        &[
            &(t + 777),
            &"POST",
            &"/api/upload",
            &"201",
            &"api.example.org",
            &"",
            &"application/json",
            &"42",
            &6,
            &"198.18.9.9",
            &"10.20.30.41",
            &80,
            &50630,
            &(t + 20_000),
        ],
    )?;

    // connstart, type (1 A, 5 CNAME, 28 AAAA), ip, host, protocol, srcip, destip, srcport,
    // destport, timestamp
    for (connstart, kind, ip, host, server, client, client_port, offset) in [
        (
            2_000,
            1,
            "198.18.7.20",
            "www.example.com",
            "10.20.30.1",
            "10.20.30.41",
            61000,
            9_000,
        ),
        (
            2_000,
            5,
            "cdn.example.net",
            "static.example.com",
            "10.20.30.1",
            "10.20.30.41",
            61001,
            9_100,
        ),
        (
            2_000,
            28,
            "2001:db8:4a1:7::20",
            "cdn.example.net",
            "10.20.30.1",
            "10.20.30.41",
            61001,
            9_101,
        ),
        (
            5_000,
            1,
            "198.18.9.9",
            "api.example.org",
            "10.20.31.1",
            "10.20.31.77",
            61010,
            15_000,
        ),
        (
            777,
            1,
            "198.18.9.10",
            "orphan.example.org",
            "10.20.30.1",
            "10.20.30.41",
            61020,
            19_000,
        ),
    ] {
        writer.insert(
            "dns",
            &[
                &(t + connstart),
                &kind,
                &ip,
                &host,
                &17,
                &server,
                &client,
                &53,
                &client_port,
                &(t + offset),
            ],
        )?;
    }

    // guid, public_ip, reverse_dns, asnumber, asname, countryCode, city, lat, lon, connstart
    let home_location = (
        WIFI.guid,
        "198.51.100.17",
        "host-17.isp.example",
        "AS64500",
        "Example ISP",
        "48.85",
        "2.35",
        2_000,
    );
    for (guid, public_ip, reverse_dns, asn, as_name, lat, lon, connstart) in [
        home_location,
        home_location,
        (
            ETHERNET.guid,
            "203.0.113.5",
            "",
            "AS64501",
            "Example Corp Network",
            "48.86",
            "2.34",
            5_000,
        ),
        (
            WIFI.guid,
            "198.51.100.23",
            "host-23.isp.example",
            "AS64500",
            "Example ISP",
            "48.85",
            "2.35",
            1_502_000,
        ),
    ] {
        writer.insert(
            "location",
            &[
                &guid,
                &public_ip,
                &reverse_dns,
                &asn,
                &as_name,
                &"FR",
                &"Paris",
                &lat,
                &lon,
                &(t + connstart),
            ],
        )?;
    }

    // timestamp, browser, location
    writer.insert(
        "browseractivity",
        &[
            &(t + 11_000),
            &"chrome",
            &"http://www.example.com/index.html",
        ],
    )?;
    writer.insert("browseractivity", &[&(t + 400_000), &"firefox", &""])?;

    // timestamp, event, value
    for (offset, event, value) in [
        (4_000, "battery", 81),
        (60_000, "userpresence", 2),
        (1_195_000, "display", 0),
        (1_505_000, "monitor", 1),
    ] {
        writer.insert("powerstate", &[&(t + offset), &event, &value])?;
    }

    // timestamp, guid, gateway, label
    writer.insert(
        "netlabel",
        &[&(t + 40_000), &WIFI.guid, &"10.20.30.1", &"Home"],
    )?;
    writer.insert(
        "netlabel",
        &[&(t + 41_000), &ETHERNET.guid, &"10.20.31.1", &""],
    )?;

    insert_full_surveys(&mut writer, t)?;

    let expected = writer.finish()?;
    tx.commit()?;
    finish_session_db(conn)?;
    Ok(expected)
}

/// Inserts the two surveys of [`full_session`] and their child rows, linked by timestamp.
fn insert_full_surveys(writer: &mut RowWriter<'_>, t: i64) -> Result<()> {
    let first = t + 900_000;
    let second = t + 2_700_000;
    let chrome = ("chrome.exe", "Example Domain - Google Chrome");
    let vlc = ("vlc.exe", "movie.mkv - VLC media player");
    let skype = ("Skype.exe", "Call - Skype");

    // timestamp, ondemand, duration (ms), qoe_score
    writer.insert("esm", &[&first, &0, &41_233, &4])?;
    writer.insert("esm", &[&second, &1, &91_502, &Null])?;

    // timestamp, appname, description, tags
    for (timestamp, (app, description), tags) in [
        (first, chrome, "browsing, work,,"),
        (first, vlc, "video,entertainment"),
        (second, ("explorer.exe", ""), ""),
    ] {
        writer.insert(
            "esm_activity_tags",
            &[&timestamp, &app, &description, &tags],
        )?;
    }
    for (timestamp, (app, description), tags) in [
        (first, chrome, "slow"),
        (second, skype, "audio-quality, disconnects"),
    ] {
        writer.insert("esm_problem_tags", &[&timestamp, &app, &description, &tags])?;
    }

    // timestamp, appname, description, qoe (text, as the client writes it)
    for (timestamp, (app, description), qoe) in [
        (first, chrome, "4"),
        (first, vlc, "5"),
        (second, skype, "2"),
    ] {
        writer.insert("esm_activity_qoe", &[&timestamp, &app, &description, &qoe])?;
    }
    for (timestamp, (app, description), importance) in [
        (first, chrome, "very important"),
        (first, vlc, "not important"),
        (second, skype, "somewhat important"),
    ] {
        writer.insert(
            "esm_activity_importance",
            &[&timestamp, &app, &description, &importance],
        )?;
    }
    Ok(())
}

/// Writes a session of a client that crashed: one `start` event at T and no stop event, with
/// data rows up to T+900 000. New schema. Times below are offsets from `T = session_ms`.
///
/// Row counts: session 1, sysinfo 1, connectivity 1, wifistats 2, procs 4, ports 2,
/// activity 2, io 1, http 1, dns 2, location 1, browseractivity 1, powerstate 2. The tables
/// netlabel, esm and the 4 esm child tables are empty.
///
/// Connectivity: Wi-Fi `{5B1D7C9A-…}` connects at T+2 000 and never disconnects. `dns`,
/// `http` and `location` rows all have `connstart` T+2 000.
///
/// The latest rows are 2 `procs` rows at T+900 000, so an importer that ends a crashed session
/// at its latest row ends this one there.
pub fn crashed_session(path: &Path, session_ms: i64) -> Result<Expected> {
    let t = session_ms;
    let conn = create_session_db(path, ClientSchema::New)?;
    let tx = conn.unchecked_transaction()?;
    let mut writer = RowWriter::new(&tx, ClientSchema::New);

    writer.event(t, "start")?;
    insert_sysinfo(
        &mut writer,
        t,
        "2,1,3,0",
        "Romance Standard Time",
        (-60_i32) as u32,
    )?;

    let wifi = Addresses {
        ips: "fe80::1c2b:3d4e:5f60:7182%14,10.20.30.41",
        gateways: "10.20.30.1",
        dnses: "10.20.30.1",
    };
    insert_connectivity(&mut writer, &WIFI, &wifi, true, t + 2_000)?;
    writer.connection(WIFI.guid, WIFI.mac, t + 2_000, None);

    for (signal, rssi, offset) in [(74, -61, 32_000), (71, -63, 62_000)] {
        writer.insert(
            "wifistats",
            &[
                &WIFI.guid,
                &144_400_000,
                &130_000_000,
                &signal,
                &rssi,
                &1,
                &(t + offset),
            ],
        )?;
    }
    for (pid, name, memory, cpu, offset) in [
        (912, "svchost.exe", 20_451_328_i64, 0.0, 3_000),
        (4120, "chrome.exe", 182_345_728, 3.25, 3_000),
        (912, "svchost.exe", 20_463_616, 0.0, 900_000),
        (4120, "chrome.exe", 401_604_608, 97.5, 900_000),
    ] {
        writer.insert("procs", &[&pid, &name, &memory, &cpu, &(t + offset)])?;
    }
    for (pid, name, protocol, src, dest, src_port, dest_port, state) in [
        (
            4120,
            "chrome.exe",
            6,
            "10.20.30.41",
            "198.18.7.20",
            50612,
            443,
            5,
        ),
        (912, "svchost.exe", 17, "0.0.0.0", "", 5353, 0, 0),
    ] {
        writer.insert(
            "ports",
            &[
                &pid,
                &name,
                &protocol,
                &src,
                &dest,
                &src_port,
                &dest_port,
                &state,
                &(t + 3_001),
            ],
        )?;
    }
    for (description, idle, offset) in [
        ("Example Domain - Google Chrome", 0, 2_500),
        ("Example Domain - Google Chrome", 1, 600_000),
    ] {
        writer.insert(
            "activity",
            &[
                &"participant01",
                &4120,
                &"chrome.exe",
                &description,
                &0,
                &idle,
                &(t + offset),
            ],
        )?;
    }
    writer.insert("io", &[&3, &4120, &"chrome.exe", &(t + 4_000)])?;
    writer.insert(
        "http",
        &[
            &(t + 2_000),
            &"GET",
            &"/index.html",
            &"200",
            &"www.example.com",
            &"",
            &"text/html",
            &"5120",
            &6,
            &"198.18.7.20",
            &"10.20.30.41",
            &80,
            &50613,
            &(t + 10_000),
        ],
    )?;
    for (kind, ip, offset) in [(1, "198.18.7.20", 9_000), (28, "2001:db8:4a1:7::20", 9_001)] {
        writer.insert(
            "dns",
            &[
                &(t + 2_000),
                &kind,
                &ip,
                &"www.example.com",
                &17,
                &"10.20.30.1",
                &"10.20.30.41",
                &53,
                &61000,
                &(t + offset),
            ],
        )?;
    }
    writer.insert(
        "location",
        &[
            &WIFI.guid,
            &"198.51.100.17",
            &"host-17.isp.example",
            &"AS64500",
            &"Example ISP",
            &"FR",
            &"Paris",
            &"48.85",
            &"2.35",
            &(t + 2_000),
        ],
    )?;
    writer.insert(
        "browseractivity",
        &[
            &(t + 11_000),
            &"chrome",
            &"http://www.example.com/index.html",
        ],
    )?;
    writer.insert("powerstate", &[&(t + 4_000), &"battery", &54])?;
    writer.insert("powerstate", &[&(t + 850_000), &"battery", &3])?;

    let expected = writer.finish()?;
    tx.commit()?;
    finish_session_db(conn)?;
    Ok(expected)
}

/// Writes a session of an older client: the tables `esm_activity_qoe` and
/// `esm_activity_importance` do not exist, so [`Expected::source_rows`] has no key for them.
/// Times below are offsets from `T = session_ms`.
///
/// Row counts: session 4, sysinfo 1, connectivity 3, wifistats 0, procs 3, ports 2,
/// activity 2, io 1, http 1, dns 2, location 2, browseractivity 0, powerstate 2, netlabel 1,
/// esm 1, esm_activity_tags 1, esm_problem_tags 1.
///
/// Session events: autostart T, suspend T+1 200 000, resume T+1 800 000, autostop T+2 400 000.
/// `sysinfo` has `hostview_version` `"1,0,2,3"` and `timezone_offset` 4294967176 (−120 as
/// unsigned 32-bit, GTB Standard Time).
///
/// Connectivity: Ethernet `{0D8E3B61-…}` connects at T+1 000, disconnects at T+1 190 000 and
/// reconnects at T+1 802 000 until the session ends. Each connection has one `location` row and
/// one `dns` row; the `http` row belongs to the first connection. The survey at T+600 000 has
/// one activity tag row and one problem tag row with the same timestamp.
pub fn old_schema_session(path: &Path, session_ms: i64) -> Result<Expected> {
    let t = session_ms;
    let conn = create_session_db(path, ClientSchema::Old)?;
    let tx = conn.unchecked_transaction()?;
    let mut writer = RowWriter::new(&tx, ClientSchema::Old);

    for (offset, event) in [
        (0, "autostart"),
        (1_200_000, "suspend"),
        (1_800_000, "resume"),
        (2_400_000, "autostop"),
    ] {
        writer.event(t + offset, event)?;
    }
    insert_sysinfo(
        &mut writer,
        t,
        "1,0,2,3",
        "GTB Standard Time",
        (-120_i32) as u32,
    )?;

    let ethernet = Addresses {
        ips: "10.20.31.77",
        gateways: "10.20.31.1",
        dnses: "10.20.31.1,198.18.0.53",
    };
    insert_connectivity(&mut writer, &ETHERNET, &ethernet, true, t + 1_000)?;
    insert_connectivity(&mut writer, &ETHERNET, &ethernet, false, t + 1_190_000)?;
    insert_connectivity(&mut writer, &ETHERNET, &ethernet, true, t + 1_802_000)?;
    writer.connection(ETHERNET.guid, ETHERNET.mac, t + 1_000, Some(t + 1_190_000));
    writer.connection(ETHERNET.guid, ETHERNET.mac, t + 1_802_000, None);

    for (pid, name, memory, offset) in [
        (912, "svchost.exe", 20_451_328_i64, 2_000),
        (6268, "devenv.exe", 612_040_704, 2_000),
        (6268, "devenv.exe", 655_360_000, 1_805_000),
    ] {
        writer.insert("procs", &[&pid, &name, &memory, &1.5, &(t + offset)])?;
    }
    for (pid, name, protocol, dest, dest_port, state) in [
        (6268, "devenv.exe", 6, "198.18.40.2", 443, 5),
        (912, "svchost.exe", 17, "", 0, 0),
    ] {
        writer.insert(
            "ports",
            &[
                &pid,
                &name,
                &protocol,
                &"10.20.31.77",
                &dest,
                &50100,
                &dest_port,
                &state,
                &(t + 2_001),
            ],
        )?;
    }
    for (idle, offset) in [(0, 2_500), (1, 1_000_000)] {
        writer.insert(
            "activity",
            &[
                &"participant02",
                &6268,
                &"devenv.exe",
                &"Solution1 - Microsoft Visual Studio",
                &0,
                &idle,
                &(t + offset),
            ],
        )?;
    }
    writer.insert("io", &[&1, &6268, &"devenv.exe", &(t + 3_000)])?;
    writer.insert(
        "http",
        &[
            &(t + 1_000),
            &"GET",
            &"/feed.xml",
            &"200",
            &"news.example.com",
            &"",
            &"text/xml; charset=utf-8",
            &"4180",
            &6,
            &"198.18.40.3",
            &"10.20.31.77",
            &80,
            &50101,
            &(t + 5_000),
        ],
    )?;
    for (connstart, ip, host, offset) in [
        (1_000, "198.18.40.3", "news.example.com", 4_900),
        (1_802_000, "198.18.40.2", "code.example.com", 1_803_000),
    ] {
        writer.insert(
            "dns",
            &[
                &(t + connstart),
                &1,
                &ip,
                &host,
                &17,
                &"10.20.31.1",
                &"10.20.31.77",
                &53,
                &61100,
                &(t + offset),
            ],
        )?;
    }
    for connstart in [1_000, 1_802_000] {
        writer.insert(
            "location",
            &[
                &ETHERNET.guid,
                &"203.0.113.5",
                &"gw.corp.example",
                &"AS64501",
                &"Example Corp Network",
                &"GR",
                &"Athens",
                &"37.98",
                &"23.73",
                &(t + connstart),
            ],
        )?;
    }
    writer.insert("powerstate", &[&(t + 4_000), &"battery", &100])?;
    writer.insert("powerstate", &[&(t + 1_150_000), &"userpresence", &0])?;
    writer.insert(
        "netlabel",
        &[&(t + 60_000), &ETHERNET.guid, &"10.20.31.1", &"Office"],
    )?;

    let survey = t + 600_000;
    let app = "devenv.exe";
    let description = "Solution1 - Microsoft Visual Studio";
    writer.insert("esm", &[&survey, &0, &60_000, &3])?;
    writer.insert(
        "esm_activity_tags",
        &[&survey, &app, &description, &"work,programming"],
    )?;
    writer.insert("esm_problem_tags", &[&survey, &app, &description, &"slow"])?;

    let expected = writer.finish()?;
    tx.commit()?;
    finish_session_db(conn)?;
    Ok(expected)
}
