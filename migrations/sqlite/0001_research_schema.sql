-- Research schema of Hostview Processing (SQLite output of the embedded mode).
--
-- Same tables and columns as the PostgreSQL schema. Times are ISO-8601 UTC text with milliseconds
-- (2016-07-18T14:37:03.282Z), arrays are JSON arrays and addresses are text.
--
-- Table and column names follow the original Hostview research database so that existing analysis
-- queries keep working. Differences from the original: short varchar limits became text,
-- dns_logs/http_logs and the survey child tables carry session_id with a nullable parent link
-- (rows whose parent is missing are kept instead of dropped), files records the content hash,
-- and pcap records device and connection keys so that a capture can arrive before its session.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username text NOT NULL,
    password text NOT NULL,
    created_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    device_id text NOT NULL UNIQUE,
    created_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    secret_token text
);

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
    folder text,
    basename text,
    status text,
    error_info text,
    hostview_version text,
    kind text,
    sha256 text,
    size_bytes INTEGER,
    created_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (device_id, basename)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    file_id INTEGER REFERENCES files (id) ON DELETE CASCADE,
    device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    start_event text,
    stop_event text
);
CREATE INDEX sessions_file_id_idx ON sessions (file_id);
CREATE INDEX sessions_device_id_started_at_idx ON sessions (device_id, started_at);

CREATE TABLE device_info (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    manufacturer text,
    product text,
    operating_system text,
    cpu text,
    memory_installed INTEGER,
    hdd_capacity INTEGER,
    serial_number text,
    hostview_version text,
    settings_version text,
    timezone text,
    timezone_offset INTEGER,
    logged_at text
);
CREATE INDEX device_info_session_id_idx ON device_info (session_id);

-- Locations are shared between sessions: one row per distinct set of values (see fingerprint).
CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    public_ip text,
    reverse_dns text,
    asn_number text,
    asn_name text,
    country_code text,
    city text,
    latitude text,
    longitude text,
    fingerprint text NOT NULL UNIQUE
);

CREATE TABLE connections (
    id INTEGER PRIMARY KEY,
    location_id INTEGER REFERENCES locations (id) ON DELETE SET NULL,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    guid text,
    friendly_name text,
    description text,
    dns_suffix text,
    mac text,
    ips text,
    gateways text,
    dnses text,
    t_speed INTEGER,
    r_speed INTEGER,
    wireless INTEGER,
    profile text,
    ssid text,
    bssid text,
    bssid_type text,
    phy_type text,
    phy_index INTEGER,
    channel INTEGER
);
CREATE INDEX connections_session_id_idx ON connections (session_id);
CREATE INDEX connections_location_id_idx ON connections (location_id);

CREATE TABLE wifi_stats (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    guid text,
    t_speed INTEGER,
    r_speed INTEGER,
    signal INTEGER,
    rssi INTEGER,
    state INTEGER,
    logged_at text
);
CREATE INDEX wifi_stats_session_id_idx ON wifi_stats (session_id);

CREATE TABLE processes (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    pid INTEGER,
    name text,
    memory INTEGER,
    cpu real,
    logged_at text
);
CREATE INDEX processes_session_id_idx ON processes (session_id);

CREATE TABLE ports (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    pid INTEGER,
    name text,
    protocol INTEGER,
    source_ip text,
    destination_ip text,
    source_port INTEGER,
    destination_port INTEGER,
    state INTEGER,
    logged_at text
);
CREATE INDEX ports_session_id_idx ON ports (session_id);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_name text,
    pid INTEGER,
    name text,
    description text,
    fullscreen INTEGER,
    idle INTEGER,
    logged_at text,
    finished_at text
);
CREATE INDEX activities_session_id_idx ON activities (session_id);

CREATE TABLE activity_io (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name text,
    description text,
    idle INTEGER,
    pid INTEGER,
    logged_at text,
    finished_at text,
    io_activity INTEGER
);
CREATE INDEX activity_io_session_id_idx ON activity_io (session_id);

CREATE TABLE io (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    device INTEGER,
    pid INTEGER,
    name text,
    logged_at text
);
CREATE INDEX io_session_id_idx ON io (session_id);

CREATE TABLE dns_logs (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER REFERENCES connections (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    type INTEGER,
    ip text,
    host text,
    protocol INTEGER,
    source_ip text,
    destination_ip text,
    source_port INTEGER,
    destination_port INTEGER,
    logged_at text
);
CREATE INDEX dns_logs_session_id_idx ON dns_logs (session_id);
CREATE INDEX dns_logs_connection_id_idx ON dns_logs (connection_id);

CREATE TABLE http_logs (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER REFERENCES connections (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    http_verb text,
    http_verb_param text,
    http_status_code text,
    http_host text,
    referer text,
    content_type text,
    content_length text,
    protocol INTEGER,
    source_ip text,
    destination_ip text,
    source_port INTEGER,
    destination_port INTEGER,
    logged_at text
);
CREATE INDEX http_logs_session_id_idx ON http_logs (session_id);
CREATE INDEX http_logs_connection_id_idx ON http_logs (connection_id);

CREATE TABLE browser_activity (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    browser text,
    location text,
    logged_at text
);
CREATE INDEX browser_activity_session_id_idx ON browser_activity (session_id);

CREATE TABLE power_states (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    event text,
    value INTEGER,
    logged_at text
);
CREATE INDEX power_states_session_id_idx ON power_states (session_id);

CREATE TABLE netlabels (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    guid text,
    gateway text,
    label text,
    logged_at text
);
CREATE INDEX netlabels_session_id_idx ON netlabels (session_id);

CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    ondemand INTEGER,
    qoe_score INTEGER,
    duration INTEGER,
    started_at text,
    ended_at text
);
CREATE INDEX surveys_session_id_idx ON surveys (session_id);

CREATE TABLE survey_activity_tags (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER REFERENCES surveys (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    tags text,
    logged_at text
);
CREATE INDEX survey_activity_tags_session_id_idx ON survey_activity_tags (session_id);
CREATE INDEX survey_activity_tags_survey_id_idx ON survey_activity_tags (survey_id);

CREATE TABLE survey_problem_tags (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER REFERENCES surveys (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    tags text,
    logged_at text
);
CREATE INDEX survey_problem_tags_session_id_idx ON survey_problem_tags (session_id);
CREATE INDEX survey_problem_tags_survey_id_idx ON survey_problem_tags (survey_id);

CREATE TABLE survey_activity_qoe (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER REFERENCES surveys (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    qoe text,
    logged_at text
);
CREATE INDEX survey_activity_qoe_session_id_idx ON survey_activity_qoe (session_id);
CREATE INDEX survey_activity_qoe_survey_id_idx ON survey_activity_qoe (survey_id);

CREATE TABLE survey_activity_importance (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER REFERENCES surveys (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    importance text,
    logged_at text
);
CREATE INDEX survey_activity_importance_session_id_idx ON survey_activity_importance (session_id);
CREATE INDEX survey_activity_importance_survey_id_idx ON survey_activity_importance (survey_id);

CREATE TABLE processes_running (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_running INTEGER,
    session_running INTEGER,
    started_at text,
    ended_at text
);
CREATE INDEX processes_running_session_id_idx ON processes_running (session_id);

-- Captures: filled by the capture analysis, which a later version adds.
CREATE TABLE pcap (
    id INTEGER PRIMARY KEY,
    device_id INTEGER REFERENCES devices (id) ON DELETE CASCADE,
    session_started_at text,
    connection_started_at text,
    interface_id text,
    connection_id INTEGER REFERENCES connections (id) ON DELETE SET NULL,
    status text,
    error_info text,
    folder text,
    basename text,
    created_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE pcap_file (
    id INTEGER PRIMARY KEY,
    pcap_id INTEGER NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    file_id INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    file_order INTEGER NOT NULL
);

CREATE TABLE pcap_flow (
    id INTEGER PRIMARY KEY,
    pcap_id INTEGER NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_code text,
    source_ip text,
    source_port INTEGER,
    destination_ip text,
    destination_port INTEGER,
    protocol text,
    first_packet text,
    last_packet text,
    status text,
    total_time real,
    total_packets INTEGER,
    idle_time_ab real,
    idle_time_ba real,
    bytes_ab INTEGER,
    bytes_ba INTEGER
);

CREATE TABLE pcap_events (
    id INTEGER PRIMARY KEY,
    pcap_id INTEGER NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id INTEGER,
    direction text,
    time text,
    type text,
    seq INTEGER
);

CREATE TABLE pcap_rtt (
    id INTEGER PRIMARY KEY,
    pcap_id INTEGER NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id INTEGER,
    direction text,
    time text,
    rtt real,
    seq INTEGER
);

CREATE TABLE pcap_throughput (
    id INTEGER PRIMARY KEY,
    pcap_id INTEGER NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id INTEGER,
    direction text,
    time text,
    value real
);

-- Browser uploads: filled by the browser JSON import, which a later version adds.
CREATE TABLE video_session (
    id INTEGER PRIMARY KEY,
    file_id INTEGER REFERENCES files (id) ON DELETE CASCADE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    service_type INTEGER,
    window_location text,
    current_src text,
    duration real,
    title text,
    end_reason INTEGER,
    qoe_score INTEGER
);

CREATE TABLE video_buffered_play_time_sample (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    logged_at text,
    current_video_playtime real,
    buffered_minus_current real
);

CREATE TABLE video_buffering_event (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    type INTEGER,
    ended_by_abort INTEGER
);

CREATE TABLE video_off_screen_event (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at text,
    ended_at text
);

CREATE TABLE video_pause_event (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    type INTEGER
);

CREATE TABLE video_playback_quality_sample (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    logged_at text,
    totalvideoframes INTEGER,
    droppedvideoframes INTEGER,
    corruptedvideoframes INTEGER,
    totalframedelay INTEGER,
    mozparsedframes INTEGER,
    mozdecodedframes INTEGER,
    mozpresentedframes INTEGER,
    mozpaintedframes INTEGER,
    mozframedelay real
);

CREATE TABLE video_player_size (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    width INTEGER,
    height INTEGER,
    is_full_screen INTEGER
);

CREATE TABLE video_resolution (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at text,
    ended_at text,
    res_x INTEGER,
    res_y INTEGER
);

CREATE TABLE video_seek_event (
    id INTEGER PRIMARY KEY,
    video_session_id INTEGER NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    buffering_event_id INTEGER REFERENCES video_buffering_event (id) ON DELETE SET NULL,
    pause_event_id INTEGER REFERENCES video_pause_event (id) ON DELETE SET NULL,
    logged_at text,
    to_video_time real
);
