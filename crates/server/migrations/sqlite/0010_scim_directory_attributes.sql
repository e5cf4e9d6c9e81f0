-- The directory attributes identity providers send (core title, userType, preferredLanguage;
-- the enterprise extension's department, employeeNumber, costCenter, organization, division;
-- the work address's locality, region, country), which mappings match users on.
-- JSON: {"department": "Sales", ...}; absent attributes are left out.
ALTER TABLE users ADD COLUMN scim_attributes TEXT NOT NULL DEFAULT '{}';
