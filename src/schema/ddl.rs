//! Import of `CREATE TABLE` statements, as `pg_dump --schema-only` prints them, into
//! [`TableDef`]s, with `sqlparser`'s PostgreSQL dialect.
//!
//! Read: `CREATE TABLE` (column types, `NOT NULL`, `PRIMARY KEY`), `ALTER TABLE …
//! ADD CONSTRAINT … PRIMARY KEY` (its columns become `NOT NULL`), and `COMMENT ON TABLE`
//! / `COMMENT ON COLUMN` (descriptions). Schema qualifiers are dropped (`public.borehole`
//! is `borehole`) and quoted identifiers unquoted. Everything else in a dump (`SET`,
//! extensions, indexes, ownership, functions, psql's `\restrict` lines) is skipped.
//!
//! ```
//! use parquet_storage::schema::{ddl, PgType};
//!
//! let tables = ddl::import(r#"
//!     CREATE TABLE public.borehole (
//!         id uuid DEFAULT gen_random_uuid() NOT NULL,
//!         "Depth_m" numeric(8,3),
//!         location public.geography(Point,4326)
//!     );
//!     COMMENT ON COLUMN public.borehole."Depth_m" IS 'Final depth; metres';
//! "#)?;
//! assert_eq!(tables[0].name, "borehole");
//! assert_eq!(tables[0].columns[1].name, "Depth_m");
//! assert_eq!(tables[0].columns[1].pg_type, PgType::Numeric(Some((8, 3))));
//! assert_eq!(tables[0].columns[1].description.as_deref(), Some("Final depth; metres"));
//! # Ok::<(), parquet_storage::Error>(())
//! ```

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CommentObject, ObjectName, ObjectNamePart, Statement,
    TableConstraint,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::{ColumnDef, TableDef};
use crate::error::{Error, Result};

/// Parses `sql` and returns its tables in the order they appear, each at version 1.
pub fn import(sql: &str) -> Result<Vec<TableDef>> {
    let dialect = PostgreSqlDialect {};
    // psql meta-commands (`\restrict …`) are not SQL; blank them, keeping line numbers.
    let sql: String = sql
        .lines()
        .map(|line| {
            if line.trim_start().starts_with('\\') {
                ""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tokens = Tokenizer::new(&dialect, &sql)
        .tokenize_with_location()
        .map_err(|e| Error::Ddl {
            line: e.location.line,
            message: e.message.clone(),
        })?;

    let mut tables: Vec<TableDef> = Vec::new();
    for statement in split_statements(tokens) {
        let line = statement
            .iter()
            .find(|t| !is_blank(&t.token))
            .map_or(0, |t| t.span.start.line);
        let head = leading_words(&statement, 2);
        if !matches!(head.as_str(), "CREATE TABLE" | "ALTER TABLE" | "COMMENT ON") {
            continue;
        }
        let parsed = Parser::new(&dialect)
            .with_tokens_with_locations(statement)
            .parse_statement();
        let parsed = match parsed {
            Ok(parsed) => parsed,
            // Only CREATE TABLE must be understood; other ALTERs and COMMENTs may be skipped.
            Err(e) if head == "CREATE TABLE" => {
                return Err(Error::Ddl {
                    line,
                    message: e.to_string(),
                });
            }
            Err(_) => continue,
        };
        apply(parsed, line, &mut tables)?;
    }
    Ok(tables)
}

fn is_blank(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

/// Splits at top-level semicolons; strings and dollar-quoted bodies are single tokens,
/// so a semicolon inside them does not split.
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut statements = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon => statements.push(std::mem::take(&mut current)),
            Token::EOF => {}
            _ => current.push(token),
        }
    }
    statements.push(current);
    statements.retain(|s| s.iter().any(|t| !is_blank(&t.token)));
    statements
}

fn leading_words(statement: &[TokenWithSpan], n: usize) -> String {
    statement
        .iter()
        .filter(|t| !is_blank(&t.token))
        .take(n)
        .map(|t| t.token.to_string().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The unqualified, unquoted last part of a name: `public."Borehole"` is `Borehole`.
fn last_part(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn table_mut<'a>(tables: &'a mut [TableDef], name: &str, line: u64) -> Result<&'a mut TableDef> {
    tables
        .iter_mut()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::Ddl {
            line,
            message: format!("table {name:?} is not created before this statement"),
        })
}

fn apply(statement: Statement, line: u64, tables: &mut Vec<TableDef>) -> Result<()> {
    match statement {
        Statement::CreateTable(create) => {
            let name = last_part(&create.name);
            if tables.iter().any(|t| t.name == name) {
                return Err(Error::Ddl {
                    line,
                    message: format!("table {name:?} is created twice"),
                });
            }
            let mut def = TableDef::new(name.clone(), 1);
            for column in create.columns {
                let type_text = column.data_type.to_string();
                let pg_type = type_text.parse().map_err(|e: Error| Error::Ddl {
                    line,
                    message: format!("table {name:?}, column {:?}: {e}", column.name.value),
                })?;
                let mut def_column = ColumnDef::of_type(column.name.value.clone(), pg_type);
                for option in &column.options {
                    if matches!(
                        option.option,
                        ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                    ) {
                        def_column.nullable = false;
                    }
                }
                def.columns.push(def_column);
            }
            for constraint in &create.constraints {
                mark_primary_key(&mut def, constraint);
            }
            tables.push(def);
        }
        Statement::AlterTable(alter) => {
            let name = last_part(&alter.name);
            for operation in &alter.operations {
                if let AlterTableOperation::AddConstraint { constraint, .. } = operation
                    && matches!(constraint, TableConstraint::PrimaryKey(_))
                {
                    mark_primary_key(table_mut(tables, &name, line)?, constraint);
                }
            }
        }
        Statement::Comment {
            object_type,
            object_name,
            comment,
            ..
        } => {
            let parts: Vec<String> = object_name
                .0
                .iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value.clone(),
                    other => other.to_string(),
                })
                .collect();
            match object_type {
                CommentObject::Table => {
                    let table = last_part(&object_name);
                    table_mut(tables, &table, line)?.description = comment;
                }
                CommentObject::Column if parts.len() >= 2 => {
                    let (table, column) = (&parts[parts.len() - 2], &parts[parts.len() - 1]);
                    let def = table_mut(tables, table, line)?;
                    let Some(target) = def.columns.iter_mut().find(|c| &c.name == column) else {
                        return Err(Error::Ddl {
                            line,
                            message: format!("table {table:?} has no column {column:?}"),
                        });
                    };
                    target.description = comment;
                }
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}

/// A primary key's columns are `NOT NULL`.
fn mark_primary_key(def: &mut TableDef, constraint: &TableConstraint) {
    let TableConstraint::PrimaryKey(pk) = constraint else {
        return;
    };
    for key in &pk.columns {
        let name = match &key.column.expr {
            sqlparser::ast::Expr::Identifier(ident) => ident.value.clone(),
            other => other.to_string(),
        };
        if let Some(column) = def.columns.iter_mut().find(|c| c.name == name) {
            column.nullable = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PgType;

    #[test]
    fn reads_a_pg_dump_fragment() {
        let sql = r#"
\restrict AbCdEf
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE EXTENSION IF NOT EXISTS postgis WITH SCHEMA public;
COMMENT ON EXTENSION postgis IS 'PostGIS geometry and geography spatial types and functions';
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END; $$;
CREATE TABLE public.sub_structures (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    "order" integer DEFAULT 0 NOT NULL,
    code character(2) DEFAULT 'GB'::bpchar,
    tags text[] DEFAULT '{}'::text[],
    observed timestamp(3) with time zone,
    elapsed interval DEFAULT '00:30:00'::interval,
    depth numeric,
    CONSTRAINT depth_positive CHECK ((depth > (0)::numeric))
);
ALTER TABLE public.sub_structures OWNER TO postgres;
COMMENT ON TABLE public.sub_structures IS 'Parts of a structure; ordered';
COMMENT ON COLUMN public.sub_structures."order" IS 'Position, from 0 (it''s 0-based)';
ALTER TABLE ONLY public.sub_structures
    ADD CONSTRAINT sub_structures_pkey PRIMARY KEY (id);
CREATE INDEX sub_structures_order_idx ON public.sub_structures USING btree ("order");
\unrestrict AbCdEf
"#;
        let tables = import(sql).unwrap();
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        assert_eq!(t.name, "sub_structures");
        assert_eq!(
            t.description.as_deref(),
            Some("Parts of a structure; ordered")
        );
        let types: Vec<(&str, &PgType, bool)> = t
            .columns
            .iter()
            .map(|c| (c.name.as_str(), &c.pg_type, c.nullable))
            .collect();
        assert_eq!(
            types,
            vec![
                ("id", &PgType::Uuid, false),
                ("order", &PgType::Integer, false),
                ("code", &PgType::Char(2), true),
                ("tags", &PgType::Array(Box::new(PgType::Text)), true),
                ("observed", &PgType::Timestamptz(Some(3)), true),
                ("elapsed", &PgType::Interval, true),
                ("depth", &PgType::Numeric(None), true),
            ]
        );
        assert_eq!(
            t.columns[1].description.as_deref(),
            Some("Position, from 0 (it's 0-based)")
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = import("\nCREATE TABLE t (\n a money\n);").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line 2") && text.contains("\"a\"") && text.contains("money"),
            "{text}"
        );
        let err = import("CREATE TABLE t (a int);\nCOMMENT ON COLUMN t.b IS 'x';").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(import("CREATE TABLE t (a int").is_err());
    }
}
