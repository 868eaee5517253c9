--
-- PostgreSQL database dump
--

\restrict uu8vmYpbmdNH3rldDTo1mBPMBp7v6re6aXS57NhWhKrFGamyeUy6E4tiAQLShSk

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: postgis; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;


--
-- Name: EXTENSION postgis; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION postgis IS 'PostGIS geometry and geography spatial types and functions';


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: audit_logs; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.audit_logs (
    id bigint NOT NULL,
    occurred_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    actor_id uuid,
    action character varying(50) NOT NULL,
    entity_type character varying(50) NOT NULL,
    entity_id uuid,
    old_values jsonb,
    new_values jsonb,
    request_info json,
    client_ip character varying(45)
);


ALTER TABLE public.audit_logs OWNER TO postgres;

--
-- Name: TABLE audit_logs; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.audit_logs IS 'Append-only change log; id comes from the application''s snowflake generator.';


--
-- Name: COLUMN audit_logs.action; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.audit_logs.action IS 'e.g. create; update; delete; approve.';


--
-- Name: borehole; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.borehole (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    sub_structure_id uuid,
    borehole_number character varying(30) NOT NULL,
    location public.geography(Point,4326),
    ground_level_m numeric(8,3),
    final_depth_m numeric(8,3),
    drilling_method character varying(60),
    status character varying(20) DEFAULT 'pending'::character varying NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT borehole_final_depth_check CHECK (((final_depth_m IS NULL) OR (final_depth_m > (0)::numeric))),
    CONSTRAINT borehole_status_check CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'drilling'::character varying, 'completed'::character varying, 'abandoned'::character varying])::text[])))
);


ALTER TABLE public.borehole OWNER TO postgres;

--
-- Name: TABLE borehole; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.borehole IS 'A single exploratory hole drilled on site.';


--
-- Name: COLUMN borehole.location; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.borehole.location IS 'WGS84 geodetic point; use ST_Distance for metres.';


--
-- Name: COLUMN borehole.ground_level_m; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.borehole.ground_level_m IS 'Existing ground level in m above Ordnance Datum (mAOD).';


--
-- Name: borelog_details; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.borelog_details (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    borehole_id uuid NOT NULL,
    logged_by uuid,
    rig_type character varying(80),
    casing_diameter_mm smallint,
    drilling_started timestamp without time zone,
    drilling_ended timestamp without time zone,
    weather text,
    remarks text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone
);


ALTER TABLE public.borelog_details OWNER TO postgres;

--
-- Name: TABLE borelog_details; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.borelog_details IS 'Header information for a borehole log.';


--
-- Name: COLUMN borelog_details.drilling_started; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.borelog_details.drilling_started IS 'Local site time (no time zone) as written on the driller''s daily sheet.';


--
-- Name: borelog_images; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.borelog_images (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    borehole_id uuid NOT NULL,
    image_url text NOT NULL,
    thumbnail bytea,
    caption character varying(255),
    depth_from_m numeric(8,3),
    depth_to_m numeric(8,3),
    uploaded_by uuid,
    uploaded_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.borelog_images OWNER TO postgres;

--
-- Name: TABLE borelog_images; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.borelog_images IS 'Core box photographs attached to a borehole.';


--
-- Name: borelog_versions; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.borelog_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    borelog_id uuid NOT NULL,
    version_no integer NOT NULL,
    status character varying(20) DEFAULT 'draft'::character varying NOT NULL,
    snapshot jsonb NOT NULL,
    change_summary text,
    submitted_by uuid,
    submitted_at timestamp with time zone,
    approved_by uuid,
    approved_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT borelog_versions_status_check CHECK (((status)::text = ANY ((ARRAY['draft'::character varying, 'submitted'::character varying, 'approved'::character varying, 'rejected'::character varying])::text[]))),
    CONSTRAINT borelog_versions_version_no_check CHECK ((version_no > 0))
);


ALTER TABLE public.borelog_versions OWNER TO postgres;

--
-- Name: TABLE borelog_versions; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.borelog_versions IS 'Immutable, versioned snapshots of a borelog; drafts are overwritten, approved versions never.';


--
-- Name: COLUMN borelog_versions.snapshot; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.borelog_versions.snapshot IS 'Full JSON copy of the log at this version.';


--
-- Name: contacts; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.contacts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    customer_id uuid NOT NULL,
    first_name character varying(100) NOT NULL,
    last_name character varying(100) NOT NULL,
    email character varying(320),
    phone character varying(30),
    job_title character varying(100),
    is_primary boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.contacts OWNER TO postgres;

--
-- Name: TABLE contacts; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.contacts IS 'People at a customer we correspond with.';


--
-- Name: customers; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.customers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organisation_id uuid NOT NULL,
    name character varying(200) NOT NULL,
    billing_address text,
    vat_number character varying(20),
    credit_limit numeric(12,2) DEFAULT 0 NOT NULL,
    notes text,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT customers_credit_limit_check CHECK ((credit_limit >= (0)::numeric))
);


ALTER TABLE public.customers OWNER TO postgres;

--
-- Name: TABLE customers; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.customers IS 'Clients who commission site investigations.';


--
-- Name: COLUMN customers.credit_limit; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.customers.credit_limit IS 'Customer''s agreed credit limit in GBP.';


--
-- Name: document_uploads; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.document_uploads (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid,
    file_name character varying(255) NOT NULL,
    mime_type character varying(100) NOT NULL,
    size_bytes bigint NOT NULL,
    checksum_sha256 character(64) NOT NULL,
    storage_key text NOT NULL,
    uploaded_by uuid,
    uploaded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT document_uploads_size_check CHECK ((size_bytes > 0))
);


ALTER TABLE public.document_uploads OWNER TO postgres;

--
-- Name: TABLE document_uploads; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.document_uploads IS 'Files in object storage (drawings, specifications, photos).';


--
-- Name: field_observations; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.field_observations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    borehole_id uuid,
    observed_at timestamp with time zone DEFAULT now() NOT NULL,
    "position" public.geometry(Point,4326),
    category character varying(40) NOT NULL,
    note text NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    temperature_c real,
    observed_by uuid
);


ALTER TABLE public.field_observations OWNER TO postgres;

--
-- Name: TABLE field_observations; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.field_observations IS 'Free-form site diary entries; hazards, access issues, utilities found.';


--
-- Name: lab_report_versions; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.lab_report_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    report_id uuid NOT NULL,
    version_no integer NOT NULL,
    payload jsonb NOT NULL,
    pdf_document bytea,
    review_comments text,
    submitted_by uuid,
    submitted_at timestamp(3) with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT lab_report_versions_version_no_check CHECK ((version_no > 0))
);


ALTER TABLE public.lab_report_versions OWNER TO postgres;

--
-- Name: TABLE lab_report_versions; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.lab_report_versions IS 'Versioned content of a unified lab report.';


--
-- Name: COLUMN lab_report_versions.review_comments; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.lab_report_versions.review_comments IS 'Reviewer''s notes; shown to the lab on rejection.';


--
-- Name: lab_tests; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.lab_tests (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    code character varying(20) NOT NULL,
    name character varying(150) NOT NULL,
    standard_reference character varying(100),
    unit_cost numeric,
    typical_duration interval,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.lab_tests OWNER TO postgres;

--
-- Name: TABLE lab_tests; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.lab_tests IS 'Catalogue of laboratory test types (moisture content, Atterberg limits, PSD, triaxial...).';


--
-- Name: COLUMN lab_tests.unit_cost; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.lab_tests.unit_cost IS 'Unbounded-precision price; currency is the organisation''s default.';


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.notifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    kind character varying(50) NOT NULL,
    title character varying(200) NOT NULL,
    body text,
    link_url text,
    is_read boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    read_at timestamp with time zone
);


ALTER TABLE public.notifications OWNER TO postgres;

--
-- Name: TABLE notifications; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.notifications IS 'In-app notifications.';


--
-- Name: organisations; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.organisations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name character varying(200) NOT NULL,
    short_code character(4) NOT NULL,
    registration_number character varying(50),
    country_code character(2) DEFAULT 'GB'::bpchar NOT NULL,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    logo bytea,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT organisations_short_code_check CHECK ((short_code ~ '^[A-Z0-9]{4}$'::text))
);


ALTER TABLE public.organisations OWNER TO postgres;

--
-- Name: TABLE organisations; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.organisations IS 'Consultancies and contractors using the platform; one row per tenant.';


--
-- Name: COLUMN organisations.short_code; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.organisations.short_code IS 'Four-character code used as prefix on borehole IDs; must be upper-case.';


--
-- Name: COLUMN organisations.logo; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.organisations.logo IS 'Raw PNG bytes of the organisation''s logo, printed on borelogs.';


--
-- Name: pending_csv_uploads; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.pending_csv_uploads (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    upload_type character varying(30) NOT NULL,
    file_name character varying(255) NOT NULL,
    row_count integer DEFAULT 0 NOT NULL,
    parsed_rows json,
    errors jsonb DEFAULT '[]'::jsonb NOT NULL,
    status character varying(20) DEFAULT 'pending'::character varying NOT NULL,
    uploaded_by uuid,
    uploaded_at timestamp(3) without time zone DEFAULT now() NOT NULL,
    CONSTRAINT pending_csv_uploads_row_count_check CHECK ((row_count >= 0)),
    CONSTRAINT pending_csv_uploads_status_check CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'approved'::character varying, 'rejected'::character varying, 'returned_for_revision'::character varying])::text[])))
);


ALTER TABLE public.pending_csv_uploads OWNER TO postgres;

--
-- Name: TABLE pending_csv_uploads; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.pending_csv_uploads IS 'Bulk CSV imports awaiting review before they''re applied; rows are parsed but not yet committed.';


--
-- Name: COLUMN pending_csv_uploads.parsed_rows; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.pending_csv_uploads.parsed_rows IS 'Rows exactly as parsed from the CSV (json keeps key order).';


--
-- Name: project_members; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.project_members (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    user_id uuid NOT NULL,
    member_role character varying(40) DEFAULT 'viewer'::character varying NOT NULL,
    allocated_hours real,
    joined_on date DEFAULT CURRENT_DATE NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.project_members OWNER TO postgres;

--
-- Name: TABLE project_members; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.project_members IS 'Users who may see or edit a project.';


--
-- Name: projects; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organisation_id uuid NOT NULL,
    customer_id uuid,
    project_code character varying(30) NOT NULL,
    name character varying(255) NOT NULL,
    description text,
    site_centroid public.geometry(Point,4326),
    status character varying(20) DEFAULT 'planned'::character varying NOT NULL,
    start_date date,
    end_date date,
    budget numeric(14,2),
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT projects_dates_check CHECK (((end_date IS NULL) OR (start_date IS NULL) OR (end_date >= start_date))),
    CONSTRAINT projects_status_check CHECK (((status)::text = ANY ((ARRAY['planned'::character varying, 'active'::character varying, 'on_hold'::character varying, 'completed'::character varying, 'cancelled'::character varying])::text[])))
);


ALTER TABLE public.projects OWNER TO postgres;

--
-- Name: TABLE projects; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.projects IS 'A site investigation contract; the root of all field and lab data.';


--
-- Name: COLUMN projects.site_centroid; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.projects.site_centroid IS 'Planar WGS84 point used for map clustering; not for distance maths.';


--
-- Name: COLUMN projects.status; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.projects.status IS 'One of: planned; active; on_hold; completed; cancelled.';


--
-- Name: roles; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.roles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name character varying(50) NOT NULL,
    description text,
    permissions text[] DEFAULT '{}'::text[] NOT NULL,
    is_system boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.roles OWNER TO postgres;

--
-- Name: TABLE roles; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.roles IS 'Named permission bundles; e.g. admin, project_manager, site_engineer, approval_engineer.';


--
-- Name: COLUMN roles.permissions; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.roles.permissions IS 'Permission strings such as borelog:write; lab_report:approve.';


--
-- Name: soil_test_samples; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.soil_test_samples (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    report_id uuid NOT NULL,
    sample_point_id uuid,
    lab_test_id uuid NOT NULL,
    sample_depth_m numeric(8,3),
    moisture_content_pct numeric(6,2),
    liquid_limit smallint,
    plastic_limit smallint,
    bulk_density_mg_m3 double precision,
    results jsonb,
    tested_on date,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT soil_test_samples_limits_check CHECK (((liquid_limit IS NULL) OR (plastic_limit IS NULL) OR (liquid_limit >= plastic_limit)))
);


ALTER TABLE public.soil_test_samples OWNER TO postgres;

--
-- Name: TABLE soil_test_samples; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.soil_test_samples IS 'Per-sample soil test results within a lab report.';


--
-- Name: COLUMN soil_test_samples.bulk_density_mg_m3; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.soil_test_samples.bulk_density_mg_m3 IS 'Bulk density in Mg/m3.';


--
-- Name: stratum_layers; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.stratum_layers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    borelog_version_id uuid NOT NULL,
    layer_index smallint NOT NULL,
    depth_top_m numeric(8,3) NOT NULL,
    depth_bottom_m numeric(8,3) NOT NULL,
    description text NOT NULL,
    uscs_symbol character(2),
    legend_codes integer[],
    core_recovery_pct real,
    rqd_pct real,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stratum_layers_depth_check CHECK ((depth_bottom_m > depth_top_m)),
    CONSTRAINT stratum_layers_recovery_check CHECK (((core_recovery_pct IS NULL) OR ((core_recovery_pct >= (0)::double precision) AND (core_recovery_pct <= (100)::double precision))))
);


ALTER TABLE public.stratum_layers OWNER TO postgres;

--
-- Name: TABLE stratum_layers; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.stratum_layers IS 'Soil/rock strata described in a borelog version.';


--
-- Name: COLUMN stratum_layers.uscs_symbol; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.stratum_layers.uscs_symbol IS 'Unified Soil Classification System group symbol, e.g. CL, SM, GW.';


--
-- Name: COLUMN stratum_layers.legend_codes; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.stratum_layers.legend_codes IS 'BS 5930 legend pattern codes; drawn in the order given.';


--
-- Name: stratum_sample_points; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.stratum_sample_points (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    stratum_layer_id uuid NOT NULL,
    sample_code character varying(20) NOT NULL,
    sample_type character(1) NOT NULL,
    depth_m numeric(8,3) NOT NULL,
    spt_n_value smallint,
    spt_blows integer[],
    pocket_penetrometer_kpa double precision,
    taken_at timestamp(3) without time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stratum_sample_points_sample_type_check CHECK ((sample_type = ANY (ARRAY['B'::bpchar, 'D'::bpchar, 'U'::bpchar, 'W'::bpchar, 'C'::bpchar]))),
    CONSTRAINT stratum_sample_points_spt_check CHECK (((spt_n_value IS NULL) OR (spt_n_value >= 0)))
);


ALTER TABLE public.stratum_sample_points OWNER TO postgres;

--
-- Name: TABLE stratum_sample_points; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.stratum_sample_points IS 'Samples and in-situ tests taken within a stratum.';


--
-- Name: COLUMN stratum_sample_points.sample_type; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.stratum_sample_points.sample_type IS 'B=bulk, D=disturbed, U=undisturbed (U100), W=water, C=core.';


--
-- Name: COLUMN stratum_sample_points.spt_blows; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.stratum_sample_points.spt_blows IS 'Blow counts per 75 mm increment; seating drive first.';


--
-- Name: structure; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.structure (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    type character varying(50) NOT NULL,
    name character varying(150) NOT NULL,
    description text,
    chainage_km numeric(10,3),
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone
);


ALTER TABLE public.structure OWNER TO postgres;

--
-- Name: TABLE structure; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.structure IS 'A structure being investigated (bridge, tunnel, embankment, building...).';


--
-- Name: COLUMN structure.chainage_km; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.structure.chainage_km IS 'Chainage along the alignment in km; null for non-linear sites.';


--
-- Name: sub_structures; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.sub_structures (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    structure_id uuid NOT NULL,
    project_id uuid NOT NULL,
    type character varying(50) NOT NULL,
    label character varying(100),
    "order" integer DEFAULT 0 NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone
);


ALTER TABLE public.sub_structures OWNER TO postgres;

--
-- Name: TABLE sub_structures; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.sub_structures IS 'Pier, abutment, pylon or similar element of a structure.';


--
-- Name: COLUMN sub_structures."order"; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.sub_structures."order" IS 'Display order within the parent structure; lower comes first.';


--
-- Name: substructure_assignments; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.substructure_assignments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    sub_structure_id uuid NOT NULL,
    assigned_to uuid NOT NULL,
    assigned_by uuid,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL,
    due_date date,
    priority smallint DEFAULT 3 NOT NULL,
    CONSTRAINT substructure_assignments_priority_check CHECK (((priority >= 1) AND (priority <= 5)))
);


ALTER TABLE public.substructure_assignments OWNER TO postgres;

--
-- Name: TABLE substructure_assignments; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.substructure_assignments IS 'Which site engineer is responsible for logging each sub-structure.';


--
-- Name: test_parameters; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.test_parameters (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    lab_test_id uuid NOT NULL,
    name character varying(100) NOT NULL,
    unit character varying(20),
    min_value double precision,
    max_value double precision,
    decimal_places smallint DEFAULT 2 NOT NULL,
    "order" integer DEFAULT 0 NOT NULL,
    CONSTRAINT test_parameters_range_check CHECK (((min_value IS NULL) OR (max_value IS NULL) OR (min_value <= max_value)))
);


ALTER TABLE public.test_parameters OWNER TO postgres;

--
-- Name: TABLE test_parameters; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.test_parameters IS 'Result fields reported by each lab test type.';


--
-- Name: unified_lab_reports; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.unified_lab_reports (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    borehole_id uuid,
    report_number character varying(40) NOT NULL,
    status character varying(20) DEFAULT 'pending'::character varying NOT NULL,
    current_version integer DEFAULT 1 NOT NULL,
    received_date date,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT unified_lab_reports_status_check CHECK (((status)::text = ANY ((ARRAY['pending'::character varying, 'in_progress'::character varying, 'submitted'::character varying, 'approved'::character varying, 'rejected'::character varying])::text[])))
);


ALTER TABLE public.unified_lab_reports OWNER TO postgres;

--
-- Name: TABLE unified_lab_reports; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.unified_lab_reports IS 'One lab report covering soil and rock tests for a borehole.';


--
-- Name: COLUMN unified_lab_reports.metadata; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.unified_lab_reports.metadata IS 'Lab accreditation, technician names; free-form.';


--
-- Name: user_roles; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.user_roles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    role_id uuid NOT NULL,
    granted_by uuid,
    granted_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone
);


ALTER TABLE public.user_roles OWNER TO postgres;

--
-- Name: TABLE user_roles; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.user_roles IS 'Many-to-many assignment of roles to users.';


--
-- Name: user_sessions; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.user_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    ip_address character varying(45),
    user_agent text,
    idle_timeout interval DEFAULT '00:30:00'::interval NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked boolean DEFAULT false NOT NULL,
    CONSTRAINT user_sessions_expiry_check CHECK ((expires_at > created_at))
);


ALTER TABLE public.user_sessions OWNER TO postgres;

--
-- Name: TABLE user_sessions; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.user_sessions IS 'Active and historical login sessions.';


--
-- Name: COLUMN user_sessions.token_hash; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.user_sessions.token_hash IS 'SHA-256 of the bearer token; the token itself is never persisted.';


--
-- Name: users; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organisation_id uuid NOT NULL,
    email character varying(320) NOT NULL,
    full_name character varying(150) NOT NULL,
    password_hash text NOT NULL,
    phone character varying(30),
    is_active boolean DEFAULT true NOT NULL,
    last_login_at timestamp(3) with time zone,
    failed_login_count smallint DEFAULT 0 NOT NULL,
    preferences json,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone,
    CONSTRAINT users_failed_login_count_check CHECK ((failed_login_count >= 0))
);


ALTER TABLE public.users OWNER TO postgres;

--
-- Name: TABLE users; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.users IS 'Application users (engineers, lab technicians, reviewers, admins).';


--
-- Name: COLUMN users.password_hash; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.users.password_hash IS 'Argon2id hash; never store the plain password.';


--
-- Name: COLUMN users.last_login_at; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.users.last_login_at IS 'Millisecond precision; updated on each successful login.';


--
-- Name: water_level_readings; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.water_level_readings (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    borehole_id uuid NOT NULL,
    reading_date date NOT NULL,
    reading_time time without time zone,
    "Depth_m" numeric(8,3) NOT NULL,
    casing_depth_m numeric(8,3),
    is_strike boolean DEFAULT false NOT NULL,
    rise_after interval,
    recorded_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.water_level_readings OWNER TO postgres;

--
-- Name: TABLE water_level_readings; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON TABLE public.water_level_readings IS 'Groundwater strikes and standing water levels.';


--
-- Name: COLUMN water_level_readings."Depth_m"; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.water_level_readings."Depth_m" IS 'Depth to water below ground level, in metres (legacy CSV header kept as-is).';


--
-- Name: COLUMN water_level_readings.rise_after; Type: COMMENT; Schema: public; Owner: postgres
--

COMMENT ON COLUMN public.water_level_readings.rise_after IS 'Time over which the water rise was observed; typically 20 minutes.';


--
-- Name: audit_logs audit_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.audit_logs
    ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id);


--
-- Name: borehole borehole_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borehole
    ADD CONSTRAINT borehole_pkey PRIMARY KEY (id);


--
-- Name: borehole borehole_project_id_borehole_number_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borehole
    ADD CONSTRAINT borehole_project_id_borehole_number_key UNIQUE (project_id, borehole_number);


--
-- Name: borelog_details borelog_details_borehole_id_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_details
    ADD CONSTRAINT borelog_details_borehole_id_key UNIQUE (borehole_id);


--
-- Name: borelog_details borelog_details_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_details
    ADD CONSTRAINT borelog_details_pkey PRIMARY KEY (id);


--
-- Name: borelog_images borelog_images_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_images
    ADD CONSTRAINT borelog_images_pkey PRIMARY KEY (id);


--
-- Name: borelog_versions borelog_versions_borelog_id_version_no_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_versions
    ADD CONSTRAINT borelog_versions_borelog_id_version_no_key UNIQUE (borelog_id, version_no);


--
-- Name: borelog_versions borelog_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_versions
    ADD CONSTRAINT borelog_versions_pkey PRIMARY KEY (id);


--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (id);


--
-- Name: customers customers_organisation_id_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_organisation_id_name_key UNIQUE (organisation_id, name);


--
-- Name: customers customers_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);


--
-- Name: document_uploads document_uploads_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.document_uploads
    ADD CONSTRAINT document_uploads_pkey PRIMARY KEY (id);


--
-- Name: document_uploads document_uploads_storage_key_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.document_uploads
    ADD CONSTRAINT document_uploads_storage_key_key UNIQUE (storage_key);


--
-- Name: field_observations field_observations_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.field_observations
    ADD CONSTRAINT field_observations_pkey PRIMARY KEY (id);


--
-- Name: lab_report_versions lab_report_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_report_versions
    ADD CONSTRAINT lab_report_versions_pkey PRIMARY KEY (id);


--
-- Name: lab_report_versions lab_report_versions_report_id_version_no_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_report_versions
    ADD CONSTRAINT lab_report_versions_report_id_version_no_key UNIQUE (report_id, version_no);


--
-- Name: lab_tests lab_tests_code_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_tests
    ADD CONSTRAINT lab_tests_code_key UNIQUE (code);


--
-- Name: lab_tests lab_tests_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_tests
    ADD CONSTRAINT lab_tests_pkey PRIMARY KEY (id);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: organisations organisations_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.organisations
    ADD CONSTRAINT organisations_pkey PRIMARY KEY (id);


--
-- Name: organisations organisations_short_code_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.organisations
    ADD CONSTRAINT organisations_short_code_key UNIQUE (short_code);


--
-- Name: pending_csv_uploads pending_csv_uploads_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.pending_csv_uploads
    ADD CONSTRAINT pending_csv_uploads_pkey PRIMARY KEY (id);


--
-- Name: project_members project_members_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.project_members
    ADD CONSTRAINT project_members_pkey PRIMARY KEY (id);


--
-- Name: project_members project_members_project_id_user_id_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.project_members
    ADD CONSTRAINT project_members_project_id_user_id_key UNIQUE (project_id, user_id);


--
-- Name: projects projects_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);


--
-- Name: projects projects_project_code_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_project_code_key UNIQUE (project_code);


--
-- Name: roles roles_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_name_key UNIQUE (name);


--
-- Name: roles roles_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.roles
    ADD CONSTRAINT roles_pkey PRIMARY KEY (id);


--
-- Name: soil_test_samples soil_test_samples_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.soil_test_samples
    ADD CONSTRAINT soil_test_samples_pkey PRIMARY KEY (id);


--
-- Name: stratum_layers stratum_layers_borelog_version_id_layer_index_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.stratum_layers
    ADD CONSTRAINT stratum_layers_borelog_version_id_layer_index_key UNIQUE (borelog_version_id, layer_index);


--
-- Name: stratum_layers stratum_layers_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.stratum_layers
    ADD CONSTRAINT stratum_layers_pkey PRIMARY KEY (id);


--
-- Name: stratum_sample_points stratum_sample_points_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.stratum_sample_points
    ADD CONSTRAINT stratum_sample_points_pkey PRIMARY KEY (id);


--
-- Name: structure structure_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.structure
    ADD CONSTRAINT structure_pkey PRIMARY KEY (id);


--
-- Name: structure structure_project_id_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.structure
    ADD CONSTRAINT structure_project_id_name_key UNIQUE (project_id, name);


--
-- Name: sub_structures sub_structures_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.sub_structures
    ADD CONSTRAINT sub_structures_pkey PRIMARY KEY (id);


--
-- Name: substructure_assignments substructure_assignments_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.substructure_assignments
    ADD CONSTRAINT substructure_assignments_pkey PRIMARY KEY (id);


--
-- Name: substructure_assignments substructure_assignments_sub_structure_id_assigned_to_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.substructure_assignments
    ADD CONSTRAINT substructure_assignments_sub_structure_id_assigned_to_key UNIQUE (sub_structure_id, assigned_to);


--
-- Name: test_parameters test_parameters_lab_test_id_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.test_parameters
    ADD CONSTRAINT test_parameters_lab_test_id_name_key UNIQUE (lab_test_id, name);


--
-- Name: test_parameters test_parameters_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.test_parameters
    ADD CONSTRAINT test_parameters_pkey PRIMARY KEY (id);


--
-- Name: unified_lab_reports unified_lab_reports_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.unified_lab_reports
    ADD CONSTRAINT unified_lab_reports_pkey PRIMARY KEY (id);


--
-- Name: unified_lab_reports unified_lab_reports_report_number_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.unified_lab_reports
    ADD CONSTRAINT unified_lab_reports_report_number_key UNIQUE (report_number);


--
-- Name: user_roles user_roles_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_roles
    ADD CONSTRAINT user_roles_pkey PRIMARY KEY (id);


--
-- Name: user_roles user_roles_user_id_role_id_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_roles
    ADD CONSTRAINT user_roles_user_id_role_id_key UNIQUE (user_id, role_id);


--
-- Name: user_sessions user_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_sessions
    ADD CONSTRAINT user_sessions_pkey PRIMARY KEY (id);


--
-- Name: user_sessions user_sessions_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_sessions
    ADD CONSTRAINT user_sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: users users_email_key; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_email_key UNIQUE (email);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: water_level_readings water_level_readings_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.water_level_readings
    ADD CONSTRAINT water_level_readings_pkey PRIMARY KEY (id);


--
-- Name: idx_audit_logs_entity; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_audit_logs_entity ON public.audit_logs USING btree (entity_type, entity_id);


--
-- Name: idx_borehole_location; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_borehole_location ON public.borehole USING gist (location);


--
-- Name: idx_borehole_project_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_borehole_project_id ON public.borehole USING btree (project_id);


--
-- Name: idx_borelog_images_borehole_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_borelog_images_borehole_id ON public.borelog_images USING btree (borehole_id);


--
-- Name: idx_contacts_customer_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_contacts_customer_id ON public.contacts USING btree (customer_id);


--
-- Name: idx_field_observations_project; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_field_observations_project ON public.field_observations USING btree (project_id, observed_at DESC);


--
-- Name: idx_notifications_user_unread; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_notifications_user_unread ON public.notifications USING btree (user_id) WHERE (NOT is_read);


--
-- Name: idx_projects_customer_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_projects_customer_id ON public.projects USING btree (customer_id);


--
-- Name: idx_projects_site_centroid; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_projects_site_centroid ON public.projects USING gist (site_centroid);


--
-- Name: idx_soil_test_samples_report; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_soil_test_samples_report ON public.soil_test_samples USING btree (report_id);


--
-- Name: idx_stratum_sample_points_layer; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_stratum_sample_points_layer ON public.stratum_sample_points USING btree (stratum_layer_id);


--
-- Name: idx_sub_structures_structure_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_sub_structures_structure_id ON public.sub_structures USING btree (structure_id);


--
-- Name: idx_unified_lab_reports_project; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_unified_lab_reports_project ON public.unified_lab_reports USING btree (project_id);


--
-- Name: idx_unified_lab_reports_status; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_unified_lab_reports_status ON public.unified_lab_reports USING btree (status) WHERE ((status)::text <> 'approved'::text);


--
-- Name: idx_user_sessions_user_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_user_sessions_user_id ON public.user_sessions USING btree (user_id);


--
-- Name: idx_users_organisation_id; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_users_organisation_id ON public.users USING btree (organisation_id);


--
-- Name: idx_water_level_readings_borehole; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX idx_water_level_readings_borehole ON public.water_level_readings USING btree (borehole_id, reading_date);


--
-- Name: audit_logs audit_logs_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.audit_logs
    ADD CONSTRAINT audit_logs_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: borehole borehole_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borehole
    ADD CONSTRAINT borehole_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: borehole borehole_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borehole
    ADD CONSTRAINT borehole_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: borehole borehole_sub_structure_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borehole
    ADD CONSTRAINT borehole_sub_structure_id_fkey FOREIGN KEY (sub_structure_id) REFERENCES public.sub_structures(id) ON DELETE SET NULL;


--
-- Name: borelog_details borelog_details_borehole_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_details
    ADD CONSTRAINT borelog_details_borehole_id_fkey FOREIGN KEY (borehole_id) REFERENCES public.borehole(id) ON DELETE CASCADE;


--
-- Name: borelog_details borelog_details_logged_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_details
    ADD CONSTRAINT borelog_details_logged_by_fkey FOREIGN KEY (logged_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: borelog_images borelog_images_borehole_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_images
    ADD CONSTRAINT borelog_images_borehole_id_fkey FOREIGN KEY (borehole_id) REFERENCES public.borehole(id) ON DELETE CASCADE;


--
-- Name: borelog_images borelog_images_uploaded_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_images
    ADD CONSTRAINT borelog_images_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: borelog_versions borelog_versions_approved_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_versions
    ADD CONSTRAINT borelog_versions_approved_by_fkey FOREIGN KEY (approved_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: borelog_versions borelog_versions_borelog_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_versions
    ADD CONSTRAINT borelog_versions_borelog_id_fkey FOREIGN KEY (borelog_id) REFERENCES public.borelog_details(id) ON DELETE CASCADE;


--
-- Name: borelog_versions borelog_versions_submitted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.borelog_versions
    ADD CONSTRAINT borelog_versions_submitted_by_fkey FOREIGN KEY (submitted_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: contacts contacts_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE CASCADE;


--
-- Name: customers customers_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: customers customers_organisation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_organisation_id_fkey FOREIGN KEY (organisation_id) REFERENCES public.organisations(id) ON DELETE CASCADE;


--
-- Name: document_uploads document_uploads_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.document_uploads
    ADD CONSTRAINT document_uploads_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: document_uploads document_uploads_uploaded_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.document_uploads
    ADD CONSTRAINT document_uploads_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: field_observations field_observations_borehole_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.field_observations
    ADD CONSTRAINT field_observations_borehole_id_fkey FOREIGN KEY (borehole_id) REFERENCES public.borehole(id) ON DELETE SET NULL;


--
-- Name: field_observations field_observations_observed_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.field_observations
    ADD CONSTRAINT field_observations_observed_by_fkey FOREIGN KEY (observed_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: field_observations field_observations_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.field_observations
    ADD CONSTRAINT field_observations_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: lab_report_versions lab_report_versions_report_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_report_versions
    ADD CONSTRAINT lab_report_versions_report_id_fkey FOREIGN KEY (report_id) REFERENCES public.unified_lab_reports(id) ON DELETE CASCADE;


--
-- Name: lab_report_versions lab_report_versions_submitted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.lab_report_versions
    ADD CONSTRAINT lab_report_versions_submitted_by_fkey FOREIGN KEY (submitted_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: notifications notifications_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: pending_csv_uploads pending_csv_uploads_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.pending_csv_uploads
    ADD CONSTRAINT pending_csv_uploads_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: pending_csv_uploads pending_csv_uploads_uploaded_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.pending_csv_uploads
    ADD CONSTRAINT pending_csv_uploads_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: project_members project_members_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.project_members
    ADD CONSTRAINT project_members_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: project_members project_members_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.project_members
    ADD CONSTRAINT project_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: projects projects_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: projects projects_customer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE SET NULL;


--
-- Name: projects projects_organisation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_organisation_id_fkey FOREIGN KEY (organisation_id) REFERENCES public.organisations(id) ON DELETE CASCADE;


--
-- Name: soil_test_samples soil_test_samples_lab_test_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.soil_test_samples
    ADD CONSTRAINT soil_test_samples_lab_test_id_fkey FOREIGN KEY (lab_test_id) REFERENCES public.lab_tests(id) ON DELETE RESTRICT;


--
-- Name: soil_test_samples soil_test_samples_report_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.soil_test_samples
    ADD CONSTRAINT soil_test_samples_report_id_fkey FOREIGN KEY (report_id) REFERENCES public.unified_lab_reports(id) ON DELETE CASCADE;


--
-- Name: soil_test_samples soil_test_samples_sample_point_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.soil_test_samples
    ADD CONSTRAINT soil_test_samples_sample_point_id_fkey FOREIGN KEY (sample_point_id) REFERENCES public.stratum_sample_points(id) ON DELETE SET NULL;


--
-- Name: stratum_layers stratum_layers_borelog_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.stratum_layers
    ADD CONSTRAINT stratum_layers_borelog_version_id_fkey FOREIGN KEY (borelog_version_id) REFERENCES public.borelog_versions(id) ON DELETE CASCADE;


--
-- Name: stratum_sample_points stratum_sample_points_stratum_layer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.stratum_sample_points
    ADD CONSTRAINT stratum_sample_points_stratum_layer_id_fkey FOREIGN KEY (stratum_layer_id) REFERENCES public.stratum_layers(id) ON DELETE CASCADE;


--
-- Name: structure structure_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.structure
    ADD CONSTRAINT structure_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: structure structure_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.structure
    ADD CONSTRAINT structure_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: sub_structures sub_structures_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.sub_structures
    ADD CONSTRAINT sub_structures_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: sub_structures sub_structures_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.sub_structures
    ADD CONSTRAINT sub_structures_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: sub_structures sub_structures_structure_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.sub_structures
    ADD CONSTRAINT sub_structures_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structure(id) ON DELETE CASCADE;


--
-- Name: substructure_assignments substructure_assignments_assigned_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.substructure_assignments
    ADD CONSTRAINT substructure_assignments_assigned_by_fkey FOREIGN KEY (assigned_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: substructure_assignments substructure_assignments_assigned_to_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.substructure_assignments
    ADD CONSTRAINT substructure_assignments_assigned_to_fkey FOREIGN KEY (assigned_to) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: substructure_assignments substructure_assignments_sub_structure_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.substructure_assignments
    ADD CONSTRAINT substructure_assignments_sub_structure_id_fkey FOREIGN KEY (sub_structure_id) REFERENCES public.sub_structures(id) ON DELETE CASCADE;


--
-- Name: test_parameters test_parameters_lab_test_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.test_parameters
    ADD CONSTRAINT test_parameters_lab_test_id_fkey FOREIGN KEY (lab_test_id) REFERENCES public.lab_tests(id) ON DELETE CASCADE;


--
-- Name: unified_lab_reports unified_lab_reports_borehole_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.unified_lab_reports
    ADD CONSTRAINT unified_lab_reports_borehole_id_fkey FOREIGN KEY (borehole_id) REFERENCES public.borehole(id) ON DELETE SET NULL;


--
-- Name: unified_lab_reports unified_lab_reports_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.unified_lab_reports
    ADD CONSTRAINT unified_lab_reports_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: unified_lab_reports unified_lab_reports_project_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.unified_lab_reports
    ADD CONSTRAINT unified_lab_reports_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;


--
-- Name: user_roles user_roles_granted_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_roles
    ADD CONSTRAINT user_roles_granted_by_fkey FOREIGN KEY (granted_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- Name: user_roles user_roles_role_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_roles
    ADD CONSTRAINT user_roles_role_id_fkey FOREIGN KEY (role_id) REFERENCES public.roles(id) ON DELETE RESTRICT;


--
-- Name: user_roles user_roles_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_roles
    ADD CONSTRAINT user_roles_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: user_sessions user_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.user_sessions
    ADD CONSTRAINT user_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;


--
-- Name: users users_organisation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_organisation_id_fkey FOREIGN KEY (organisation_id) REFERENCES public.organisations(id) ON DELETE CASCADE;


--
-- Name: water_level_readings water_level_readings_borehole_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.water_level_readings
    ADD CONSTRAINT water_level_readings_borehole_id_fkey FOREIGN KEY (borehole_id) REFERENCES public.borehole(id) ON DELETE CASCADE;


--
-- Name: water_level_readings water_level_readings_recorded_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.water_level_readings
    ADD CONSTRAINT water_level_readings_recorded_by_fkey FOREIGN KEY (recorded_by) REFERENCES public.users(id) ON DELETE SET NULL;


--
-- PostgreSQL database dump complete
--

\unrestrict uu8vmYpbmdNH3rldDTo1mBPMBp7v6re6aXS57NhWhKrFGamyeUy6E4tiAQLShSk

