"""cases: real target tables, versioned with the library

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table('target_case',
    sa.Column('source', sa.JSON(), nullable=False),
    sa.Column('provenance', text(), nullable=False),
    sa.Column('certainty', text(), nullable=False),
    sa.Column('note', text(), nullable=False),
    sa.Column('code', text(length=40), nullable=False),
    sa.Column('name', text(), nullable=False),
    sa.Column('summary', text(), nullable=False),
    sa.Column('goal', text(), nullable=False),
    sa.Column('sector', text(), nullable=False),
    sa.Column('department', text(), nullable=False),
    sa.Column('unit', text(), nullable=False),
    sa.Column('region', text(), nullable=False),
    sa.Column('province', text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('budget_wan_yuan', sa.Float(), nullable=True),
    sa.Column('project_type', text(), nullable=False),
    sa.Column('expenditure_type', text(), nullable=False),
    sa.Column('table_kind', text(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('incomplete', sa.Boolean(), nullable=False),
    sa.Column('actuals', sa.Boolean(), nullable=False),
    sa.Column('status', text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )


def downgrade() -> None:
    op.drop_table('target_case')
