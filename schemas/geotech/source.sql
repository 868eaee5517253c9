-- Geotechnical site-investigation application schema (PostgreSQL 15 + PostGIS)
CREATE EXTENSION IF NOT EXISTS postgis;

-- ---------------------------------------------------------------------------
-- Tenancy, identity and access
-- ---------------------------------------------------------------------------
CREATE TABLE organisations (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    name varchar(200) NOT NULL,
    short_code char(4) NOT NULL,
    registration_number varchar(50),
    country_code char(2) DEFAULT 'GB' NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    logo bytea,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT organisations_short_code_key UNIQUE (short_code),
    CONSTRAINT organisations_short_code_check CHECK (short_code ~ '^[A-Z0-9]{4}$')
);
COMMENT ON TABLE organisations IS 'Consultancies and contractors using the platform; one row per tenant.';
COMMENT ON COLUMN organisations.short_code IS 'Four-character code used as prefix on borehole IDs; must be upper-case.';
COMMENT ON COLUMN organisations.logo IS 'Raw PNG bytes of the organisation''s logo, printed on borelogs.';

CREATE TABLE users (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    email varchar(320) NOT NULL,
    full_name varchar(150) NOT NULL,
    password_hash text NOT NULL,
    phone varchar(30),
    is_active boolean DEFAULT true NOT NULL,
    last_login_at timestamptz(3),
    failed_login_count smallint DEFAULT 0 NOT NULL,
    preferences json,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_failed_login_count_check CHECK (failed_login_count >= 0)
);
COMMENT ON TABLE users IS 'Application users (engineers, lab technicians, reviewers, admins).';
COMMENT ON COLUMN users.password_hash IS 'Argon2id hash; never store the plain password.';
COMMENT ON COLUMN users.last_login_at IS 'Millisecond precision; updated on each successful login.';
CREATE INDEX idx_users_organisation_id ON users USING btree (organisation_id);

CREATE TABLE roles (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    name varchar(50) NOT NULL,
    description text,
    permissions text[] DEFAULT '{}'::text[] NOT NULL,
    is_system boolean DEFAULT false NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT roles_name_key UNIQUE (name)
);
COMMENT ON TABLE roles IS 'Named permission bundles; e.g. admin, project_manager, site_engineer, approval_engineer.';
COMMENT ON COLUMN roles.permissions IS 'Permission strings such as borelog:write; lab_report:approve.';

CREATE TABLE user_roles (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,
    granted_by uuid REFERENCES users(id) ON DELETE SET NULL,
    granted_at timestamptz DEFAULT now() NOT NULL,
    expires_at timestamptz,
    CONSTRAINT user_roles_user_id_role_id_key UNIQUE (user_id, role_id)
);
COMMENT ON TABLE user_roles IS 'Many-to-many assignment of roles to users.';

CREATE TABLE user_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL,
    ip_address varchar(45),
    user_agent text,
    idle_timeout interval DEFAULT '00:30:00'::interval NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked boolean DEFAULT false NOT NULL,
    CONSTRAINT user_sessions_token_hash_key UNIQUE (token_hash),
    CONSTRAINT user_sessions_expiry_check CHECK (expires_at > created_at)
);
COMMENT ON TABLE user_sessions IS 'Active and historical login sessions.';
COMMENT ON COLUMN user_sessions.token_hash IS 'SHA-256 of the bearer token; the token itself is never persisted.';
CREATE INDEX idx_user_sessions_user_id ON user_sessions USING btree (user_id);

-- ---------------------------------------------------------------------------
-- Customers and projects
-- ---------------------------------------------------------------------------
CREATE TABLE customers (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name varchar(200) NOT NULL,
    billing_address text,
    vat_number varchar(20),
    credit_limit numeric(12,2) DEFAULT 0 NOT NULL,
    notes text,
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT customers_organisation_id_name_key UNIQUE (organisation_id, name),
    CONSTRAINT customers_credit_limit_check CHECK (credit_limit >= 0)
);
COMMENT ON TABLE customers IS 'Clients who commission site investigations.';
COMMENT ON COLUMN customers.credit_limit IS 'Customer''s agreed credit limit in GBP.';

CREATE TABLE contacts (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    email varchar(320),
    phone varchar(30),
    job_title varchar(100),
    is_primary boolean DEFAULT false NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL
);
COMMENT ON TABLE contacts IS 'People at a customer we correspond with.';
CREATE INDEX idx_contacts_customer_id ON contacts USING btree (customer_id);

CREATE TABLE projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    customer_id uuid REFERENCES customers(id) ON DELETE SET NULL,
    project_code varchar(30) NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    site_centroid geometry(Point,4326),
    status varchar(20) DEFAULT 'planned'::character varying NOT NULL,
    start_date date,
    end_date date,
    budget numeric(14,2),
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT projects_project_code_key UNIQUE (project_code),
    CONSTRAINT projects_status_check CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'cancelled')),
    CONSTRAINT projects_dates_check CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
COMMENT ON TABLE projects IS 'A site investigation contract; the root of all field and lab data.';
COMMENT ON COLUMN projects.site_centroid IS 'Planar WGS84 point used for map clustering; not for distance maths.';
COMMENT ON COLUMN projects.status IS 'One of: planned; active; on_hold; completed; cancelled.';
CREATE INDEX idx_projects_customer_id ON projects USING btree (customer_id);
CREATE INDEX idx_projects_site_centroid ON projects USING gist (site_centroid);

CREATE TABLE project_members (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    member_role varchar(40) DEFAULT 'viewer'::character varying NOT NULL,
    allocated_hours real,
    joined_on date DEFAULT CURRENT_DATE NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT project_members_project_id_user_id_key UNIQUE (project_id, user_id)
);
COMMENT ON TABLE project_members IS 'Users who may see or edit a project.';

-- ---------------------------------------------------------------------------
-- Structures
-- ---------------------------------------------------------------------------
CREATE TABLE structure (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type varchar(50) NOT NULL,
    name varchar(150) NOT NULL,
    description text,
    chainage_km numeric(10,3),
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT structure_project_id_name_key UNIQUE (project_id, name)
);
COMMENT ON TABLE structure IS 'A structure being investigated (bridge, tunnel, embankment, building...).';
COMMENT ON COLUMN structure.chainage_km IS 'Chainage along the alignment in km; null for non-linear sites.';

CREATE TABLE sub_structures (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    structure_id uuid NOT NULL REFERENCES structure(id) ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type varchar(50) NOT NULL,
    label varchar(100),
    "order" integer DEFAULT 0 NOT NULL,
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz
);
COMMENT ON TABLE sub_structures IS 'Pier, abutment, pylon or similar element of a structure.';
COMMENT ON COLUMN sub_structures."order" IS 'Display order within the parent structure; lower comes first.';
CREATE INDEX idx_sub_structures_structure_id ON sub_structures USING btree (structure_id);

CREATE TABLE substructure_assignments (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    sub_structure_id uuid NOT NULL REFERENCES sub_structures(id) ON DELETE CASCADE,
    assigned_to uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assigned_by uuid REFERENCES users(id) ON DELETE SET NULL,
    assigned_at timestamptz DEFAULT now() NOT NULL,
    due_date date,
    priority smallint DEFAULT 3 NOT NULL,
    CONSTRAINT substructure_assignments_sub_structure_id_assigned_to_key UNIQUE (sub_structure_id, assigned_to),
    CONSTRAINT substructure_assignments_priority_check CHECK (priority BETWEEN 1 AND 5)
);
COMMENT ON TABLE substructure_assignments IS 'Which site engineer is responsible for logging each sub-structure.';

-- ---------------------------------------------------------------------------
-- Boreholes and borelogs
-- ---------------------------------------------------------------------------
CREATE TABLE borehole (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sub_structure_id uuid REFERENCES sub_structures(id) ON DELETE SET NULL,
    borehole_number varchar(30) NOT NULL,
    location geography(Point,4326),
    ground_level_m numeric(8,3),
    final_depth_m numeric(8,3),
    drilling_method varchar(60),
    status varchar(20) DEFAULT 'pending'::character varying NOT NULL,
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT borehole_project_id_borehole_number_key UNIQUE (project_id, borehole_number),
    CONSTRAINT borehole_final_depth_check CHECK (final_depth_m IS NULL OR final_depth_m > 0),
    CONSTRAINT borehole_status_check CHECK (status IN ('pending', 'drilling', 'completed', 'abandoned'))
);
COMMENT ON TABLE borehole IS 'A single exploratory hole drilled on site.';
COMMENT ON COLUMN borehole.location IS 'WGS84 geodetic point; use ST_Distance for metres.';
COMMENT ON COLUMN borehole.ground_level_m IS 'Existing ground level in m above Ordnance Datum (mAOD).';
CREATE INDEX idx_borehole_location ON borehole USING gist (location);
CREATE INDEX idx_borehole_project_id ON borehole USING btree (project_id);

CREATE TABLE borelog_details (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    borehole_id uuid NOT NULL REFERENCES borehole(id) ON DELETE CASCADE,
    logged_by uuid REFERENCES users(id) ON DELETE SET NULL,
    rig_type varchar(80),
    casing_diameter_mm smallint,
    drilling_started timestamp,
    drilling_ended timestamp,
    weather text,
    remarks text,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT borelog_details_borehole_id_key UNIQUE (borehole_id)
);
COMMENT ON TABLE borelog_details IS 'Header information for a borehole log.';
COMMENT ON COLUMN borelog_details.drilling_started IS 'Local site time (no time zone) as written on the driller''s daily sheet.';

CREATE TABLE borelog_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    borelog_id uuid NOT NULL REFERENCES borelog_details(id) ON DELETE CASCADE,
    version_no integer NOT NULL,
    status varchar(20) DEFAULT 'draft'::character varying NOT NULL,
    snapshot jsonb NOT NULL,
    change_summary text,
    submitted_by uuid REFERENCES users(id) ON DELETE SET NULL,
    submitted_at timestamptz,
    approved_by uuid REFERENCES users(id) ON DELETE SET NULL,
    approved_at timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT borelog_versions_borelog_id_version_no_key UNIQUE (borelog_id, version_no),
    CONSTRAINT borelog_versions_version_no_check CHECK (version_no > 0),
    CONSTRAINT borelog_versions_status_check CHECK (status IN ('draft', 'submitted', 'approved', 'rejected'))
);
COMMENT ON TABLE borelog_versions IS 'Immutable, versioned snapshots of a borelog; drafts are overwritten, approved versions never.';
COMMENT ON COLUMN borelog_versions.snapshot IS 'Full JSON copy of the log at this version.';

CREATE TABLE borelog_images (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    borehole_id uuid NOT NULL REFERENCES borehole(id) ON DELETE CASCADE,
    image_url text NOT NULL,
    thumbnail bytea,
    caption varchar(255),
    depth_from_m numeric(8,3),
    depth_to_m numeric(8,3),
    uploaded_by uuid REFERENCES users(id) ON DELETE SET NULL,
    uploaded_at timestamptz DEFAULT now() NOT NULL
);
COMMENT ON TABLE borelog_images IS 'Core box photographs attached to a borehole.';
CREATE INDEX idx_borelog_images_borehole_id ON borelog_images USING btree (borehole_id);

CREATE TABLE stratum_layers (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    borelog_version_id uuid NOT NULL REFERENCES borelog_versions(id) ON DELETE CASCADE,
    layer_index smallint NOT NULL,
    depth_top_m numeric(8,3) NOT NULL,
    depth_bottom_m numeric(8,3) NOT NULL,
    description text NOT NULL,
    uscs_symbol char(2),
    legend_codes integer[],
    core_recovery_pct real,
    rqd_pct real,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT stratum_layers_borelog_version_id_layer_index_key UNIQUE (borelog_version_id, layer_index),
    CONSTRAINT stratum_layers_depth_check CHECK (depth_bottom_m > depth_top_m),
    CONSTRAINT stratum_layers_recovery_check CHECK (core_recovery_pct IS NULL OR (core_recovery_pct >= 0 AND core_recovery_pct <= 100))
);
COMMENT ON TABLE stratum_layers IS 'Soil/rock strata described in a borelog version.';
COMMENT ON COLUMN stratum_layers.uscs_symbol IS 'Unified Soil Classification System group symbol, e.g. CL, SM, GW.';
COMMENT ON COLUMN stratum_layers.legend_codes IS 'BS 5930 legend pattern codes; drawn in the order given.';

CREATE TABLE stratum_sample_points (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    stratum_layer_id uuid NOT NULL REFERENCES stratum_layers(id) ON DELETE CASCADE,
    sample_code varchar(20) NOT NULL,
    sample_type char(1) NOT NULL,
    depth_m numeric(8,3) NOT NULL,
    spt_n_value smallint,
    spt_blows integer[],
    pocket_penetrometer_kpa double precision,
    taken_at timestamp(3),
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT stratum_sample_points_sample_type_check CHECK (sample_type IN ('B', 'D', 'U', 'W', 'C')),
    CONSTRAINT stratum_sample_points_spt_check CHECK (spt_n_value IS NULL OR spt_n_value >= 0)
);
COMMENT ON TABLE stratum_sample_points IS 'Samples and in-situ tests taken within a stratum.';
COMMENT ON COLUMN stratum_sample_points.sample_type IS 'B=bulk, D=disturbed, U=undisturbed (U100), W=water, C=core.';
COMMENT ON COLUMN stratum_sample_points.spt_blows IS 'Blow counts per 75 mm increment; seating drive first.';
CREATE INDEX idx_stratum_sample_points_layer ON stratum_sample_points USING btree (stratum_layer_id);

CREATE TABLE water_level_readings (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    borehole_id uuid NOT NULL REFERENCES borehole(id) ON DELETE CASCADE,
    reading_date date NOT NULL,
    reading_time time,
    "Depth_m" numeric(8,3) NOT NULL,
    casing_depth_m numeric(8,3),
    is_strike boolean DEFAULT false NOT NULL,
    rise_after interval,
    recorded_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL
);
COMMENT ON TABLE water_level_readings IS 'Groundwater strikes and standing water levels.';
COMMENT ON COLUMN water_level_readings."Depth_m" IS 'Depth to water below ground level, in metres (legacy CSV header kept as-is).';
COMMENT ON COLUMN water_level_readings.rise_after IS 'Time over which the water rise was observed; typically 20 minutes.';
CREATE INDEX idx_water_level_readings_borehole ON water_level_readings USING btree (borehole_id, reading_date);

CREATE TABLE field_observations (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    borehole_id uuid REFERENCES borehole(id) ON DELETE SET NULL,
    observed_at timestamptz DEFAULT now() NOT NULL,
    position geometry(Point,4326),
    category varchar(40) NOT NULL,
    note text NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    temperature_c real,
    observed_by uuid REFERENCES users(id) ON DELETE SET NULL
);
COMMENT ON TABLE field_observations IS 'Free-form site diary entries; hazards, access issues, utilities found.';
CREATE INDEX idx_field_observations_project ON field_observations USING btree (project_id, observed_at DESC);

-- ---------------------------------------------------------------------------
-- Laboratory
-- ---------------------------------------------------------------------------
CREATE TABLE lab_tests (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    code varchar(20) NOT NULL,
    name varchar(150) NOT NULL,
    standard_reference varchar(100),
    unit_cost numeric,
    typical_duration interval,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT lab_tests_code_key UNIQUE (code)
);
COMMENT ON TABLE lab_tests IS 'Catalogue of laboratory test types (moisture content, Atterberg limits, PSD, triaxial...).';
COMMENT ON COLUMN lab_tests.unit_cost IS 'Unbounded-precision price; currency is the organisation''s default.';

CREATE TABLE test_parameters (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    lab_test_id uuid NOT NULL REFERENCES lab_tests(id) ON DELETE CASCADE,
    name varchar(100) NOT NULL,
    unit varchar(20),
    min_value double precision,
    max_value double precision,
    decimal_places smallint DEFAULT 2 NOT NULL,
    "order" integer DEFAULT 0 NOT NULL,
    CONSTRAINT test_parameters_lab_test_id_name_key UNIQUE (lab_test_id, name),
    CONSTRAINT test_parameters_range_check CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value)
);
COMMENT ON TABLE test_parameters IS 'Result fields reported by each lab test type.';

CREATE TABLE unified_lab_reports (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    borehole_id uuid REFERENCES borehole(id) ON DELETE SET NULL,
    report_number varchar(40) NOT NULL,
    status varchar(20) DEFAULT 'pending'::character varying NOT NULL,
    current_version integer DEFAULT 1 NOT NULL,
    received_date date,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_by uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    updated_at timestamptz,
    CONSTRAINT unified_lab_reports_report_number_key UNIQUE (report_number),
    CONSTRAINT unified_lab_reports_status_check CHECK (status IN ('pending', 'in_progress', 'submitted', 'approved', 'rejected'))
);
COMMENT ON TABLE unified_lab_reports IS 'One lab report covering soil and rock tests for a borehole.';
COMMENT ON COLUMN unified_lab_reports.metadata IS 'Lab accreditation, technician names; free-form.';
CREATE INDEX idx_unified_lab_reports_project ON unified_lab_reports USING btree (project_id);
CREATE INDEX idx_unified_lab_reports_status ON unified_lab_reports USING btree (status) WHERE ((status)::text <> 'approved'::text);

CREATE TABLE lab_report_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    report_id uuid NOT NULL REFERENCES unified_lab_reports(id) ON DELETE CASCADE,
    version_no integer NOT NULL,
    payload jsonb NOT NULL,
    pdf_document bytea,
    review_comments text,
    submitted_by uuid REFERENCES users(id) ON DELETE SET NULL,
    submitted_at timestamptz(3),
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT lab_report_versions_report_id_version_no_key UNIQUE (report_id, version_no),
    CONSTRAINT lab_report_versions_version_no_check CHECK (version_no > 0)
);
COMMENT ON TABLE lab_report_versions IS 'Versioned content of a unified lab report.';
COMMENT ON COLUMN lab_report_versions.review_comments IS 'Reviewer''s notes; shown to the lab on rejection.';

CREATE TABLE soil_test_samples (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    report_id uuid NOT NULL REFERENCES unified_lab_reports(id) ON DELETE CASCADE,
    sample_point_id uuid REFERENCES stratum_sample_points(id) ON DELETE SET NULL,
    lab_test_id uuid NOT NULL REFERENCES lab_tests(id) ON DELETE RESTRICT,
    sample_depth_m numeric(8,3),
    moisture_content_pct numeric(6,2),
    liquid_limit smallint,
    plastic_limit smallint,
    bulk_density_mg_m3 double precision,
    results jsonb,
    tested_on date,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT soil_test_samples_limits_check CHECK (liquid_limit IS NULL OR plastic_limit IS NULL OR liquid_limit >= plastic_limit)
);
COMMENT ON TABLE soil_test_samples IS 'Per-sample soil test results within a lab report.';
COMMENT ON COLUMN soil_test_samples.bulk_density_mg_m3 IS 'Bulk density in Mg/m3.';
CREATE INDEX idx_soil_test_samples_report ON soil_test_samples USING btree (report_id);

-- ---------------------------------------------------------------------------
-- Uploads, documents, notifications and audit
-- ---------------------------------------------------------------------------
CREATE TABLE pending_csv_uploads (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    upload_type varchar(30) NOT NULL,
    file_name varchar(255) NOT NULL,
    row_count integer DEFAULT 0 NOT NULL,
    parsed_rows json,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    status varchar(20) DEFAULT 'pending'::character varying NOT NULL,
    uploaded_by uuid REFERENCES users(id) ON DELETE SET NULL,
    uploaded_at timestamp(3) DEFAULT now() NOT NULL,
    CONSTRAINT pending_csv_uploads_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'returned_for_revision')),
    CONSTRAINT pending_csv_uploads_row_count_check CHECK (row_count >= 0)
);
COMMENT ON TABLE pending_csv_uploads IS 'Bulk CSV imports awaiting review before they''re applied; rows are parsed but not yet committed.';
COMMENT ON COLUMN pending_csv_uploads.parsed_rows IS 'Rows exactly as parsed from the CSV (json keeps key order).';

CREATE TABLE document_uploads (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    project_id uuid REFERENCES projects(id) ON DELETE CASCADE,
    file_name varchar(255) NOT NULL,
    mime_type varchar(100) NOT NULL,
    size_bytes bigint NOT NULL,
    checksum_sha256 char(64) NOT NULL,
    storage_key text NOT NULL,
    uploaded_by uuid REFERENCES users(id) ON DELETE SET NULL,
    uploaded_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT document_uploads_storage_key_key UNIQUE (storage_key),
    CONSTRAINT document_uploads_size_check CHECK (size_bytes > 0)
);
COMMENT ON TABLE document_uploads IS 'Files in object storage (drawings, specifications, photos).';

CREATE TABLE notifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind varchar(50) NOT NULL,
    title varchar(200) NOT NULL,
    body text,
    link_url text,
    is_read boolean DEFAULT false NOT NULL,
    created_at timestamptz DEFAULT now() NOT NULL,
    read_at timestamptz
);
COMMENT ON TABLE notifications IS 'In-app notifications.';
CREATE INDEX idx_notifications_user_unread ON notifications USING btree (user_id) WHERE (NOT is_read);

CREATE TABLE audit_logs (
    id bigint NOT NULL PRIMARY KEY,
    occurred_at timestamptz(3) DEFAULT now() NOT NULL,
    actor_id uuid REFERENCES users(id) ON DELETE SET NULL,
    action varchar(50) NOT NULL,
    entity_type varchar(50) NOT NULL,
    entity_id uuid,
    old_values jsonb,
    new_values jsonb,
    request_info json,
    client_ip varchar(45)
);
COMMENT ON TABLE audit_logs IS 'Append-only change log; id comes from the application''s snowflake generator.';
COMMENT ON COLUMN audit_logs.action IS 'e.g. create; update; delete; approve.';
CREATE INDEX idx_audit_logs_entity ON audit_logs USING btree (entity_type, entity_id);
