/**
 * Pure: what pip.conf, uv.toml and .pydistutils.cfg say, whether a mirror is valid, and the objects
 * and statuses a mirror should have.
 */
package dev.pypimirror.operator.config;
