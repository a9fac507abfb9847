-- Research schema of Hostview Processing (PostgreSQL).
--
-- Table and column names follow the original Hostview research database so that existing analysis
-- queries keep working. Differences: times are timestamptz, short varchar limits became text,
-- dns_logs/http_logs and the survey child tables carry session_id with a nullable parent link
-- (rows whose parent is missing are kept instead of dropped), files records the content hash,
-- and pcap records device and connection keys so that a capture can arrive before its session.

CREATE TABLE users (
    id bigserial PRIMARY KEY,
    username text NOT NULL,
    password text NOT NULL,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE devices (
    id bigserial PRIMARY KEY,
    device_id text NOT NULL UNIQUE,
    created_at timestamptz DEFAULT now(),
    user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    secret_token text
);

CREATE TABLE files (
    id bigserial PRIMARY KEY,
    device_id bigint REFERENCES devices (id) ON DELETE CASCADE,
    folder text,
    basename text,
    status text,
    error_info text,
    hostview_version text,
    kind text,
    sha256 text,
    size_bytes bigint,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    UNIQUE (device_id, basename)
);

CREATE TABLE sessions (
    id bigserial PRIMARY KEY,
    file_id bigint REFERENCES files (id) ON DELETE CASCADE,
    device_id bigint REFERENCES devices (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    start_event text,
    stop_event text
);
CREATE INDEX sessions_file_id_idx ON sessions (file_id);
CREATE INDEX sessions_device_id_started_at_idx ON sessions (device_id, started_at);

CREATE TABLE device_info (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    manufacturer text,
    product text,
    operating_system text,
    cpu text,
    memory_installed bigint,
    hdd_capacity bigint,
    serial_number text,
    hostview_version text,
    settings_version text,
    timezone text,
    timezone_offset bigint,
    logged_at timestamptz
);
CREATE INDEX device_info_session_id_idx ON device_info (session_id);

-- Locations are shared between sessions: one row per distinct set of values (see fingerprint).
CREATE TABLE locations (
    id bigserial PRIMARY KEY,
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
    id bigserial PRIMARY KEY,
    location_id bigint REFERENCES locations (id) ON DELETE SET NULL,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    guid text,
    friendly_name text,
    description text,
    dns_suffix text,
    mac text,
    ips text[],
    gateways text[],
    dnses text[],
    t_speed bigint,
    r_speed bigint,
    wireless smallint,
    profile text,
    ssid text,
    bssid text,
    bssid_type text,
    phy_type text,
    phy_index integer,
    channel integer
);
CREATE INDEX connections_session_id_idx ON connections (session_id);
CREATE INDEX connections_location_id_idx ON connections (location_id);

CREATE TABLE wifi_stats (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    guid text,
    t_speed bigint,
    r_speed bigint,
    signal integer,
    rssi integer,
    state integer,
    logged_at timestamptz
);
CREATE INDEX wifi_stats_session_id_idx ON wifi_stats (session_id);

CREATE TABLE processes (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    pid integer,
    name text,
    memory bigint,
    cpu double precision,
    logged_at timestamptz
);
CREATE INDEX processes_session_id_idx ON processes (session_id);

CREATE TABLE ports (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    pid integer,
    name text,
    protocol integer,
    source_ip inet,
    destination_ip inet,
    source_port integer,
    destination_port integer,
    state integer,
    logged_at timestamptz
);
CREATE INDEX ports_session_id_idx ON ports (session_id);

CREATE TABLE activities (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_name text,
    pid integer,
    name text,
    description text,
    fullscreen smallint,
    idle smallint,
    logged_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX activities_session_id_idx ON activities (session_id);

CREATE TABLE activity_io (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name text,
    description text,
    idle smallint,
    pid integer,
    logged_at timestamptz,
    finished_at timestamptz,
    io_activity integer
);
CREATE INDEX activity_io_session_id_idx ON activity_io (session_id);

CREATE TABLE io (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    device integer,
    pid integer,
    name text,
    logged_at timestamptz
);
CREATE INDEX io_session_id_idx ON io (session_id);

CREATE TABLE dns_logs (
    id bigserial PRIMARY KEY,
    connection_id bigint REFERENCES connections (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    type integer,
    ip text,
    host text,
    protocol integer,
    source_ip inet,
    destination_ip inet,
    source_port integer,
    destination_port integer,
    logged_at timestamptz
);
CREATE INDEX dns_logs_session_id_idx ON dns_logs (session_id);
CREATE INDEX dns_logs_connection_id_idx ON dns_logs (connection_id);

CREATE TABLE http_logs (
    id bigserial PRIMARY KEY,
    connection_id bigint REFERENCES connections (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    http_verb text,
    http_verb_param text,
    http_status_code text,
    http_host text,
    referer text,
    content_type text,
    content_length text,
    protocol integer,
    source_ip inet,
    destination_ip inet,
    source_port integer,
    destination_port integer,
    logged_at timestamptz
);
CREATE INDEX http_logs_session_id_idx ON http_logs (session_id);
CREATE INDEX http_logs_connection_id_idx ON http_logs (connection_id);

CREATE TABLE browser_activity (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    browser text,
    location text,
    logged_at timestamptz
);
CREATE INDEX browser_activity_session_id_idx ON browser_activity (session_id);

CREATE TABLE power_states (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    event text,
    value integer,
    logged_at timestamptz
);
CREATE INDEX power_states_session_id_idx ON power_states (session_id);

CREATE TABLE netlabels (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    guid text,
    gateway text,
    label text,
    logged_at timestamptz
);
CREATE INDEX netlabels_session_id_idx ON netlabels (session_id);

CREATE TABLE surveys (
    id bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    ondemand smallint,
    qoe_score smallint,
    duration integer,
    started_at timestamptz,
    ended_at timestamptz
);
CREATE INDEX surveys_session_id_idx ON surveys (session_id);

CREATE TABLE survey_activity_tags (
    id bigserial PRIMARY KEY,
    survey_id bigint REFERENCES surveys (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    tags text[],
    logged_at timestamptz
);
CREATE INDEX survey_activity_tags_session_id_idx ON survey_activity_tags (session_id);
CREATE INDEX survey_activity_tags_survey_id_idx ON survey_activity_tags (survey_id);

CREATE TABLE survey_problem_tags (
    id bigserial PRIMARY KEY,
    survey_id bigint REFERENCES surveys (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    tags text[],
    logged_at timestamptz
);
CREATE INDEX survey_problem_tags_session_id_idx ON survey_problem_tags (session_id);
CREATE INDEX survey_problem_tags_survey_id_idx ON survey_problem_tags (survey_id);

CREATE TABLE survey_activity_qoe (
    id bigserial PRIMARY KEY,
    survey_id bigint REFERENCES surveys (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    qoe text,
    logged_at timestamptz
);
CREATE INDEX survey_activity_qoe_session_id_idx ON survey_activity_qoe (session_id);
CREATE INDEX survey_activity_qoe_survey_id_idx ON survey_activity_qoe (survey_id);

CREATE TABLE survey_activity_importance (
    id bigserial PRIMARY KEY,
    survey_id bigint REFERENCES surveys (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_desc text,
    importance text,
    logged_at timestamptz
);
CREATE INDEX survey_activity_importance_session_id_idx ON survey_activity_importance (session_id);
CREATE INDEX survey_activity_importance_survey_id_idx ON survey_activity_importance (survey_id);

CREATE TABLE processes_running (
    id bigserial PRIMARY KEY,
    device_id bigint NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    process_name text,
    process_running integer,
    session_running integer,
    started_at timestamptz,
    ended_at timestamptz
);
CREATE INDEX processes_running_session_id_idx ON processes_running (session_id);

-- Captures: filled by the capture analysis, which a later version adds.
CREATE TABLE pcap (
    id bigserial PRIMARY KEY,
    device_id bigint REFERENCES devices (id) ON DELETE CASCADE,
    session_started_at timestamptz,
    connection_started_at timestamptz,
    interface_id text,
    connection_id bigint REFERENCES connections (id) ON DELETE SET NULL,
    status text,
    error_info text,
    folder text,
    basename text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE pcap_file (
    id bigserial PRIMARY KEY,
    pcap_id bigint NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    file_id bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    file_order integer NOT NULL
);

CREATE TABLE pcap_flow (
    id bigserial PRIMARY KEY,
    pcap_id bigint NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_code text,
    source_ip inet,
    source_port integer,
    destination_ip inet,
    destination_port integer,
    protocol text,
    first_packet timestamptz,
    last_packet timestamptz,
    status text,
    total_time double precision,
    total_packets integer,
    idle_time_ab double precision,
    idle_time_ba double precision,
    bytes_ab bigint,
    bytes_ba bigint
);

CREATE TABLE pcap_events (
    id bigserial PRIMARY KEY,
    pcap_id bigint NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id bigint,
    direction text,
    time timestamptz,
    type text,
    seq bigint
);

CREATE TABLE pcap_rtt (
    id bigserial PRIMARY KEY,
    pcap_id bigint NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id bigint,
    direction text,
    time timestamptz,
    rtt double precision,
    seq bigint
);

CREATE TABLE pcap_throughput (
    id bigserial PRIMARY KEY,
    pcap_id bigint NOT NULL REFERENCES pcap (id) ON DELETE CASCADE,
    flow_id bigint,
    direction text,
    time timestamptz,
    value double precision
);

-- Browser uploads: filled by the browser JSON import, which a later version adds.
CREATE TABLE video_session (
    id bigserial PRIMARY KEY,
    file_id bigint REFERENCES files (id) ON DELETE CASCADE,
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    service_type integer,
    window_location text,
    current_src text,
    duration double precision,
    title text,
    end_reason integer,
    qoe_score integer
);

CREATE TABLE video_buffered_play_time_sample (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    logged_at timestamptz,
    current_video_playtime double precision,
    buffered_minus_current double precision
);

CREATE TABLE video_buffering_event (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    type integer,
    ended_by_abort smallint
);

CREATE TABLE video_off_screen_event (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz
);

CREATE TABLE video_pause_event (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    type integer
);

CREATE TABLE video_playback_quality_sample (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    logged_at timestamptz,
    totalvideoframes bigint,
    droppedvideoframes bigint,
    corruptedvideoframes bigint,
    totalframedelay bigint,
    mozparsedframes bigint,
    mozdecodedframes bigint,
    mozpresentedframes bigint,
    mozpaintedframes bigint,
    mozframedelay double precision
);

CREATE TABLE video_player_size (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    width integer,
    height integer,
    is_full_screen smallint
);

CREATE TABLE video_resolution (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    started_at timestamptz,
    ended_at timestamptz,
    res_x integer,
    res_y integer
);

CREATE TABLE video_seek_event (
    id bigserial PRIMARY KEY,
    video_session_id bigint NOT NULL REFERENCES video_session (id) ON DELETE CASCADE,
    buffering_event_id bigint REFERENCES video_buffering_event (id) ON DELETE SET NULL,
    pause_event_id bigint REFERENCES video_pause_event (id) ON DELETE SET NULL,
    logged_at timestamptz,
    to_video_time double precision
);
