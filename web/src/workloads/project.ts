// The project the workload pages show: the current organization's first project until another is
// chosen. One choice for all the pages, so moving from jobs to queues stays in the same project.
import { computed, ref } from 'vue';
import { useOrganizations } from '../accounts/organizations';

const chosenProjectId = ref('');

export function useProject() {
  const { current: organization, fetching, error } = useOrganizations();
  const projects = computed(() => organization.value?.projects ?? []);
  const project = computed(
    () => projects.value.find((candidate) => candidate.id === chosenProjectId.value) ?? projects.value[0],
  );
  const role = computed(() => organization.value?.viewerRole);
  return {
    organization,
    projects,
    project,
    projectId: computed(() => project.value?.id ?? ''),
    /** Members and above submit jobs and change definitions, queues and schedules; viewers only look. */
    canWrite: computed(() => !!role.value && role.value !== 'VIEWER'),
    /** Owners and admins manage compute environments and their machines. */
    canAdmin: computed(() => role.value === 'OWNER' || role.value === 'ADMIN'),
    choose(projectId: string) {
      chosenProjectId.value = projectId;
    },
    fetching,
    error,
  };
}
