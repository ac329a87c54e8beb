"use client";

import { useMutation, useQuery } from "convex/react";
import Link from "next/link";
import { useEffect, useState, type FormEvent } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { SignedIn } from "./SignedIn";

function Projects({ organizationId }: { organizationId: Id<"organizations"> }) {
  const projects = useQuery(api.projects.list, { organizationId });
  const members = useQuery(api.organizations.members, { organizationId });
  const create = useMutation(api.projects.create);
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create({ organizationId, name }).then(() => setName(""));
  };
  return (
    <section>
      <h2>Projects</h2>
      <ul>
        {projects?.map((p) => (
          <li key={p._id}>
            {p.name} <small>by @{p.createdBy.usertag}</small>
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="New project" />
        <button type="submit" disabled={name === ""}>
          Create
        </button>
      </form>
      <h2>Members</h2>
      <ul>
        {members?.map((m) => (
          <li key={m.userId}>
            {m.name} (@{m.usertag}) · {m.role}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Dashboard() {
  const me = useQuery(api.users.current);
  const organizations = useQuery(api.organizations.mine);
  const syncOrganization = useMutation(api.organizations.syncFromToken);
  // The session's organization (the token's org_id), cached in our own tables.
  useEffect(() => {
    void syncOrganization();
  }, [syncOrganization]);
  const organization = organizations?.[0];
  return (
    <main>
      <header>
        {me?.avatarUrl ? <img src={me.avatarUrl} alt="" width={32} height={32} /> : null}
        <span>{me?.name}</span> <Link href="/profile">Profile</Link>{" "}
        <a href="/auth/logout">Log out</a>
      </header>
      {organization ? (
        <>
          <h1>{organization.name}</h1>
          <Projects organizationId={organization._id} />
        </>
      ) : (
        <p>Sign in through your organization to see its projects.</p>
      )}
    </main>
  );
}

export default function Home() {
  return (
    <SignedIn>
      <Dashboard />
    </SignedIn>
  );
}
